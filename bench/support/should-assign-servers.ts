// Child process for bench/should-assign.bench.ts: serves a bare Fastify hello-world route and the real app on
// two loopback ports, so the load generator (the parent) does not share this event loop.
import Fastify from 'fastify';
import { createTestApp } from '../../test/support/test-app.js';

const bare = Fastify();
bare.post('/hello', async () => 'true');
await bare.listen({ host: '127.0.0.1', port: 0 });
const real = await createTestApp();
real.app.log.level = 'warn';
await real.app.listen({ host: '127.0.0.1', port: 0 });
const port = (a: typeof bare) => (a.server.address() as { port: number }).port;
process.stdout.write(`${JSON.stringify({ bare: port(bare), real: port(real.app as never), token: real.token })}\n`);
process.on('message', async () => {
  await bare.close();
  await real.close();
  process.exit(0);
});
