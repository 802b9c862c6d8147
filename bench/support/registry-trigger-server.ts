// Child process for bench/registry-trigger.bench.ts: the real app with a distribution and a Quay registry subscribed, scheduling against the parent's fake GoCD (URL and token in argv), so load generation and the GoCD
// fake do not share this event loop.
import Fastify from 'fastify';
import { createTestApp } from '../../test/support/test-app.js';

const [gocdUrl, gocdToken, secret] = process.argv.slice(2);
// A registry API for the Quay entry: answers a manifest HEAD with one digest (what a real registry's answer costs is
// not the point; the dedupe path that first asks it is).
const registryApi = Fastify();
registryApi.head('/v2/*', async (_request, reply) =>
  reply
    .header('docker-content-digest', `sha256:${'b'.repeat(64)}`)
    .header('content-type', 'application/vnd.oci.image.index.v1+json')
    .send(),
);
await registryApi.listen({ host: '127.0.0.1', port: 0 });
const apiPort = (registryApi.server.address() as { port: number }).port;
const t = await createTestApp({
  logLevel: 'info',
  yaml: `
gocd: { apiUrl: ${gocdUrl}, apiToken: ${gocdToken}, scheduleRetryWindowSeconds: 30 }
registries:
  - { name: docker, type: distribution, host: registry.example.com, secret: ${secret} }
  - { name: quay, type: quay, host: quay.io, secret: ${secret}, apiUrl: http://127.0.0.1:${apiPort} }
subscriptions:
  - { image: registry.example.com/bench/app, pipelines: [bench-pipeline] }
  - { image: quay.io/bench/app, pipelines: [bench-pipeline] }
`,
});
await t.app.listen({ host: '127.0.0.1', port: 0 });
// A bare Fastify route in the same process: the floor of what one loopback request costs on this machine.
const bare = Fastify();
bare.post('/hello', async () => ({ ok: true }));
await bare.listen({ host: '127.0.0.1', port: 0 });
const port = (server: { address(): unknown }) => (server.address() as { port: number }).port;
process.stdout.write(`${JSON.stringify({ port: port(t.app.server), bare: port(bare.server) })}\n`);
process.on('message', async () => {
  await bare.close();
  await t.close();
  await registryApi.close();
  process.exit(0);
});
