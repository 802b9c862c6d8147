import { describe, expect, it } from 'vitest';
import { authenticateBody, authenticateRequest, needsBody } from '../../src/registry/registry-auth.js';
import { hmacSha256Hex } from '../../src/security/secrets.js';
import { registryEntry } from '../support/registry-fixtures.js';

// Every registry authentication rule from both sides, with the exact reason a refusal logs.

const SECRET = 'primary-secret-0123456789';
const BODY = Buffer.from('{"action":"published"}');
const github = registryEntry('github', { secret: SECRET });
const jfrog = registryEntry('artifactory', { secret: SECRET });
const distribution = registryEntry('distribution', { secret: SECRET });
const mac = hmacSha256Hex(SECRET, BODY);

describe('which registry types read the body before deciding', () => {
  it.each([
    ['github', true],
    ['artifactory', true],
    ['distribution', false],
    ['harbor', false],
    ['ecr', false],
    ['dockerhub', false],
    ['quay', false],
  ] as const)('%s → %s', (type, expected) => {
    expect(needsBody(registryEntry(type))).toBe(expected);
  });
});

describe('header checks before the body', () => {
  it('refuses a blank header as missing', () => {
    expect(authenticateRequest(distribution, { authorization: '   ' }, undefined)).toEqual({
      ok: false,
      reason: 'missing authorization header',
    });
  });

  it('takes the first of a repeated header', () => {
    expect(authenticateRequest(distribution, { authorization: [`Bearer ${SECRET}`, 'Bearer x'] }, undefined)).toEqual({
      ok: true,
    });
  });

  it('reads a bearer header with blanks around the token, and the bare value with blanks around it', () => {
    expect(authenticateRequest(distribution, { authorization: `Bearer   ${SECRET}  ` }, undefined).ok).toBe(true);
    expect(authenticateRequest(distribution, { authorization: `  ${SECRET} ` }, undefined).ok).toBe(true);
  });

  it.each([
    ['a second word after the token', `Bearer ${SECRET} extra`],
    ['a word before the scheme', `x Bearer ${SECRET}`],
    ['the scheme run into the token', `Bearer${SECRET}`],
    ['the token with a suffix', `Bearer ${SECRET}x`],
  ])('refuses %s, naming the header', (_name, authorization) => {
    expect(authenticateRequest(distribution, { authorization }, undefined)).toEqual({
      ok: false,
      reason: 'invalid authorization header',
    });
  });

  it('compares a custom header whole, never as a bearer header', () => {
    const ecr = registryEntry('ecr', { secret: SECRET, header: 'X-Api-Key' });
    expect(authenticateRequest(ecr, { 'x-api-key': ` ${SECRET} ` }, undefined).ok).toBe(true);
    expect(authenticateRequest(ecr, { 'x-api-key': `Bearer ${SECRET}` }, undefined)).toEqual({
      ok: false,
      reason: 'invalid x-api-key header',
    });
  });

  it('lets a well-formed GitHub signature through to the body check, with blanks around it', () => {
    expect(authenticateRequest(github, { 'x-hub-signature-256': ` sha256=${mac} ` }, undefined)).toEqual({
      ok: true,
      pendingBody: true,
    });
  });

  it.each([
    ['no sha256= prefix', mac],
    ['text before it', `xsha256=${mac}`],
    ['text after it', `sha256=${mac}0`],
    ['a short digest', `sha256=${mac.slice(1)}`],
  ])('refuses a GitHub signature with %s before reading the body', (_name, signature) => {
    expect(authenticateRequest(github, { 'x-hub-signature-256': signature }, undefined)).toEqual({
      ok: false,
      reason: 'malformed x-hub-signature-256 signature',
    });
  });

  it('authenticates Artifactory sending the secret at once, and a 64-hex signature after the body', () => {
    expect(authenticateRequest(jfrog, { 'x-jfrog-event-auth': ` ${SECRET} ` }, undefined)).toEqual({ ok: true });
    expect(authenticateRequest(jfrog, { 'x-jfrog-event-auth': ` ${mac} ` }, undefined)).toEqual({
      ok: true,
      pendingBody: true,
    });
  });

  it.each([
    ['text before the hex', `x${mac}`],
    ['text after the hex', `${mac}x`],
    ['a wrong secret', 'not-the-secret'],
  ])('refuses an Artifactory header with %s', (_name, value) => {
    expect(authenticateRequest(jfrog, { 'x-jfrog-event-auth': value }, undefined)).toEqual({
      ok: false,
      reason: 'invalid x-jfrog-event-auth header',
    });
  });
});

describe('signature checks over the body', () => {
  it('accepts the GitHub signature of exactly these bytes, in any hex case, with blanks around it', () => {
    expect(authenticateBody(github, { 'x-hub-signature-256': ` sha256=${mac.toUpperCase()} ` }, BODY)).toEqual({
      ok: true,
    });
  });

  it("refuses a GitHub signature of other bytes, and Artifactory's bare forms on GitHub", () => {
    const invalid = { ok: false, reason: 'invalid x-hub-signature-256 signature' };
    expect(
      authenticateBody(github, { 'x-hub-signature-256': `sha256=${hmacSha256Hex(SECRET, 'other')}` }, BODY),
    ).toEqual(invalid);
    expect(authenticateBody(github, { 'x-hub-signature-256': mac }, BODY)).toEqual(invalid);
    expect(authenticateBody(github, { 'x-hub-signature-256': SECRET }, BODY)).toEqual(invalid);
  });

  it("refuses GitHub's prefixed form on Artifactory", () => {
    expect(authenticateBody(jfrog, { 'x-jfrog-event-auth': `sha256=${mac}` }, BODY)).toEqual({
      ok: false,
      reason: 'invalid x-jfrog-event-auth signature',
    });
  });

  it('accepts an Artifactory signature with blanks around it', () => {
    expect(authenticateBody(jfrog, { 'x-jfrog-event-auth': ` ${mac} ` }, BODY)).toEqual({ ok: true });
  });

  it('refuses a missing or blank signature header, naming it', () => {
    expect(authenticateBody(github, {}, BODY)).toEqual({ ok: false, reason: 'missing x-hub-signature-256 header' });
    expect(authenticateBody(github, { 'x-hub-signature-256': '  ' }, BODY)).toEqual({
      ok: false,
      reason: 'missing x-hub-signature-256 header',
    });
  });
});
