import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryType } from '../../src/config/config.schema.js';
import { hmacSha256Hex } from '../../src/security/secrets.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { FakeGocd } from '../support/fake-gocd.js';
import { registryFixture } from '../support/registry-fixtures.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// SSRF: webhook payloads name hosts (distribution's target.url and request.host, Docker Hub's callback_url, Harbor's
// resource_url, Quay's docker_url, GitHub's API links …). The service must only ever call the hosts it was
// configured with (gocd.apiUrl, a registry's apiUrl). Here every URL and host in every payload points at a trap
// server; the deliveries are valid and trigger pipelines, and the trap must receive nothing.

let trap: Server;
let trapOrigin: string;
const trapRequests: string[] = [];
let registryApi: Server;
let registryApiUrl: string;
const registryApiRequests: string[] = [];
let gocd: FakeGocd;
let t: TestApp;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Every URL in the payload moved to the trap's origin, every bare host:port to the trap's host. */
function pointAtTrap(value: unknown): unknown {
  if (typeof value === 'string') {
    if (/^https?:\/\//i.test(value)) {
      const u = new URL(value);
      return `${trapOrigin}${u.pathname}${u.search}`;
    }
    if (/^[\w.-]+:\d+$/.test(value)) return new URL(trapOrigin).host;
    // A reference without a scheme (`hub.harbor.com/test-webhook/debian:latest`, `quay.io/ns/repo`).
    const ref = /^[\w-]+(?:\.[\w-]+)+(?::\d+)?(\/.+)$/.exec(value);
    if (ref) return `${new URL(trapOrigin).host}${ref[1]}`;
    return value;
  }
  if (Array.isArray(value)) return value.map(pointAtTrap);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pointAtTrap(v)]));
  return value;
}

const SECRET = 'payload-hosts-secret-0123456789';

beforeAll(async () => {
  trap = createServer((req, res) => {
    trapRequests.push(`${req.method} ${req.url}`);
    res.end();
  });
  trapOrigin = await listen(trap);
  registryApi = createServer((req, res) => {
    registryApiRequests.push(`${req.method} ${req.url}`);
    res.writeHead(200, {
      'docker-content-digest': `sha256:${'cd'.repeat(32)}`,
      'content-type': 'application/vnd.oci.image.index.v1+json',
    });
    res.end();
  });
  registryApiUrl = await listen(registryApi);
  gocd = await new FakeGocd().start();
  for (const p of ['p-docker', 'p-ecr', 'p-hub', 'p-harbor', 'p-ghcr', 'p-quay', 'p-jfrog']) gocd.pipeline(p);
  t = await createTestApp({
    yaml: `
gocd: { apiUrl: ${gocd.url}, apiToken: ${gocd.apiToken} }
registries:
  - { name: docker, type: distribution, host: registry.example.com, secret: ${SECRET} }
  - { name: ecr, type: ecr, host: 123456789012.dkr.ecr.us-west-2.amazonaws.com, secret: ${SECRET}, header: X-Api-Key }
  - { name: hub, type: dockerhub, host: docker.io, secret: ${SECRET}, apiUrl: ${registryApiUrl} }
  - { name: harbor, type: harbor, host: harbor.example.com, secret: ${SECRET} }
  - { name: ghcr, type: github, host: ghcr.io, secret: ${SECRET} }
  - { name: quay, type: quay, host: quay.io, secret: ${SECRET}, apiUrl: ${registryApiUrl} }
  - { name: jfrog, type: artifactory, host: example.jfrog.io, secret: ${SECRET} }
subscriptions:
  - { image: registry.example.com/**, pipelines: [p-docker] }
  - { image: 123456789012.dkr.ecr.us-west-2.amazonaws.com/**, pipelines: [p-ecr] }
  - { image: docker.io/**, pipelines: [p-hub] }
  - { image: harbor.example.com/**, pipelines: [p-harbor] }
  - { image: ghcr.io/**, pipelines: [p-ghcr] }
  - { image: quay.io/**, pipelines: [p-quay] }
  - { image: example.jfrog.io/**, pipelines: [p-jfrog] }
`,
    registry: { store: new MemoryStore() },
  });
});

afterAll(async () => {
  await t?.registry.triggers.idle();
  await t?.close();
  await gocd?.close();
  for (const s of [trap, registryApi]) await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
});

const CASES: [string, RegistryType, string, Record<string, string>][] = [
  ['docker', 'distribution', 'distribution-index-push.json', {}],
  ['ecr', 'ecr', 'ecr-image-push.json', {}],
  ['hub', 'dockerhub', 'dockerhub-push.json', {}],
  ['harbor', 'harbor', 'harbor-push-default.json', {}],
  ['ghcr', 'github', 'github-package-published.json', { 'x-github-event': 'package' }],
  ['quay', 'quay', 'quay-push.json', {}],
  ['jfrog', 'artifactory', 'artifactory-docker-pushed.json', {}],
];

describe('hosts named in webhook payloads', () => {
  it('are never called: only the configured GoCD and registry API are', async () => {
    for (const [name, type, file, extra] of CASES) {
      const body = pointAtTrap(registryFixture(file)) as Record<string, Record<string, Record<string, unknown>>>;
      if (type === 'github') {
        // The verbatim event is an untagged manifest; a tagged one is what would trigger (and so could fetch).
        (body.package!.package_version!.container_metadata as { tag: { name: string } }).tag.name = 'nightly';
      }
      const raw = JSON.stringify(body);
      // EventBridge's ECR event names no URL at all; every other sender's does.
      if (type !== 'ecr') expect(raw).toContain(new URL(trapOrigin).host);
      const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
      let url = `/registry/${name}`;
      if (type === 'dockerhub' || type === 'quay') url += `/${SECRET}`;
      else if (type === 'github') headers['x-hub-signature-256'] = `sha256=${hmacSha256Hex(SECRET, raw)}`;
      else if (type === 'ecr') headers['x-api-key'] = SECRET;
      else if (type === 'artifactory') headers['x-jfrog-event-auth'] = SECRET;
      else if (type === 'harbor') headers.authorization = SECRET;
      else headers.authorization = `Bearer ${SECRET}`;
      const res = await t.app.inject({ method: 'POST', url, headers, payload: raw });
      expect(res.statusCode, `${name}: ${res.body}`).toBe(202);
    }
    await t.registry.triggers.idle();
    expect(
      gocd.calls
        .filter((c) => c.status === 202)
        .map((c) => c.pipeline)
        .sort(),
    ).toEqual(['p-docker', 'p-ecr', 'p-ghcr', 'p-harbor', 'p-hub', 'p-jfrog', 'p-quay'].sort());
    // Docker Hub and Quay events carry no digest: it was looked up, on the configured registry API only.
    expect(registryApiRequests.length).toBeGreaterThanOrEqual(2);
    expect(trapRequests).toEqual([]);
  });
});
