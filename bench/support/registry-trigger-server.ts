// Child process for bench/registry-trigger.bench.ts: the real app with one distribution registry subscribed to
// everything, scheduling against the parent's fake GoCD (URL and token in argv), so load generation and the GoCD
// fake do not share this event loop.
import Fastify from 'fastify';
import { createTestApp } from '../../test/support/test-app.js';

const [gocdUrl, gocdToken, secret] = process.argv.slice(2);
const t = await createTestApp({
  logLevel: 'info',
  yaml: `
gocd: { apiUrl: ${gocdUrl}, apiToken: ${gocdToken}, scheduleRetryWindowSeconds: 30 }
registries:
  - { name: docker, type: distribution, host: registry.example.com, secret: ${secret} }
subscriptions:
  - { image: registry.example.com/bench/app, pipelines: [bench-pipeline] }
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
  process.exit(0);
});
