import { describe, expect, it } from 'vitest';
import { authenticateBody, authenticateRequest, needsBody } from '../../src/registry/registry-auth.js';
import { hmacSha256Hex } from '../../src/security/secrets.js';
import { registryEntry } from '../support/registry-fixtures.js';

const PRIMARY = 'primary-secret-0123456789';
const SECONDARY = 'secondary-secret-0123456789';

describe('header secrets (distribution, ecr, harbor)', () => {
  const entry = registryEntry('distribution', { secret: PRIMARY, secondarySecret: SECONDARY });

  it('accepts Authorization: Bearer <secret> with either the primary or the secondary secret', () => {
    expect(authenticateRequest(entry, { authorization: `Bearer ${PRIMARY}` }, undefined)).toEqual({ ok: true });
    expect(authenticateRequest(entry, { authorization: `bearer ${SECONDARY}` }, undefined)).toEqual({ ok: true });
  });

  it('refuses a wrong, missing or prefix-only secret, naming the header but never the secret', () => {
    for (const headers of [{ authorization: 'Bearer nope' }, {}, { authorization: `Bearer ${PRIMARY.slice(0, 10)}` }]) {
      const d = authenticateRequest(entry, headers, undefined);
      expect(d.ok).toBe(false);
      expect(JSON.stringify(d)).not.toContain(PRIMARY);
    }
    expect(authenticateRequest(entry, {}, undefined)).toEqual({ ok: false, reason: 'missing authorization header' });
  });

  it("accepts Harbor's bare Auth Header value", () => {
    expect(
      authenticateRequest(registryEntry('harbor', { secret: PRIMARY }), { authorization: PRIMARY }, undefined).ok,
    ).toBe(true);
  });

  it('reads the configured header for an EventBridge API destination key', () => {
    const ecr = registryEntry('ecr', { secret: PRIMARY, header: 'X-Api-Key' });
    expect(authenticateRequest(ecr, { 'x-api-key': PRIMARY }, undefined).ok).toBe(true);
    expect(authenticateRequest(ecr, { authorization: `Bearer ${PRIMARY}` }, undefined).ok).toBe(false);
  });

  it('refuses a path token on a header-authenticated registry', () => {
    const d = authenticateRequest(entry, { authorization: `Bearer ${PRIMARY}` }, PRIMARY);
    expect(d).toEqual({ ok: false, reason: "registry 'distribution' (distribution) does not take a path token" });
  });
});

describe('path tokens (dockerhub, quay)', () => {
  const entry = registryEntry('dockerhub', { secret: PRIMARY, secondarySecret: SECONDARY });

  it('accepts either secret as the path token and refuses anything else', () => {
    expect(authenticateRequest(entry, {}, PRIMARY).ok).toBe(true);
    expect(authenticateRequest(entry, {}, SECONDARY).ok).toBe(true);
    expect(authenticateRequest(entry, {}, 'guess')).toEqual({ ok: false, reason: 'invalid path token' });
  });

  it('refuses the route without a token, saying where the token goes', () => {
    const d = authenticateRequest(entry, { authorization: `Bearer ${PRIMARY}` }, undefined);
    expect(d).toEqual({
      ok: false,
      reason: "registry 'dockerhub' (dockerhub) authenticates by path: POST /registry/dockerhub/<token>",
    });
  });
});

describe('body signatures (github, artifactory)', () => {
  it("verifies GitHub's documented test vector", () => {
    const github = registryEntry('github', { secret: "It's a Secret to Everybody" });
    expect(needsBody(github)).toBe(true);
    const headers = {
      'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    };
    expect(authenticateBody(github, headers, Buffer.from('Hello, World!'))).toEqual({ ok: true });
    expect(authenticateBody(github, headers, Buffer.from('Hello, World?')).ok).toBe(false);
    expect(authenticateBody(github, {}, Buffer.from('Hello, World!'))).toEqual({
      ok: false,
      reason: 'missing x-hub-signature-256 header',
    });
  });

  it('accepts a GitHub signature made with the secondary secret (rotation)', () => {
    const github = registryEntry('github', { secret: PRIMARY, secondarySecret: SECONDARY });
    const body = Buffer.from('{"action":"published"}');
    const headers = { 'x-hub-signature-256': `sha256=${hmacSha256Hex(SECONDARY, body)}` };
    expect(authenticateBody(github, headers, body).ok).toBe(true);
  });

  it('accepts Artifactory sending the secret itself or signing the body with it, and nothing else', () => {
    const jfrog = registryEntry('artifactory', { secret: PRIMARY });
    const body = Buffer.from('{"domain":"docker"}');
    expect(authenticateBody(jfrog, { 'x-jfrog-event-auth': PRIMARY }, body).ok).toBe(true);
    expect(authenticateBody(jfrog, { 'x-jfrog-event-auth': hmacSha256Hex(PRIMARY, body) }, body).ok).toBe(true);
    expect(authenticateBody(jfrog, { 'x-jfrog-event-auth': hmacSha256Hex('other-secret-0000', body) }, body).ok).toBe(
      false,
    );
  });

  it('lets header-only types through the body stage untouched', () => {
    const entry = registryEntry('distribution');
    expect(needsBody(entry)).toBe(false);
    expect(authenticateBody(entry, {}, Buffer.from('x'))).toEqual({ ok: true });
  });
});
