import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient, engineAddress } from '../../src/backends/docker/docker-client.js';

// Finding 7 of issue 16: with $DOCKER_HOST set to a TCP address, a cluster profile's `docker_host: unix://…` was
// ignored (docker-modem merges its options over the environment's, and a host wins over a socket path), so agents
// landed on the wrong engine. Two loopback "engines" answer /_ping with their own name.

function engine(name: string): Server {
  return createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.setHeader('api-version', '1.43');
    res.end(req.url?.endsWith('/_ping') ? `OK from ${name}` : '{}');
  });
}

const dir = mkdtempSync(join(tmpdir(), 'scaler-docker-client-'));
const socketPath = join(dir, 'engine.sock');
const unixEngine = engine('unix');
const tcpEngine = engine('tcp');
let tcpPort = 0;
const saved = { ...process.env };

beforeAll(async () => {
  await new Promise<void>((resolve) => unixEngine.listen(socketPath, resolve));
  await new Promise<void>((resolve) => tcpEngine.listen(0, '127.0.0.1', resolve));
  tcpPort = (tcpEngine.address() as { port: number }).port;
});
afterEach(() => {
  for (const key of ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});
afterAll(async () => {
  await new Promise<void>((resolve) => unixEngine.close(() => resolve()));
  await new Promise<void>((resolve) => tcpEngine.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

const ping = async (dockerHost: string) => String(await (await createDockerClient(engineAddress(dockerHost))).ping());

describe('docker_host wins over $DOCKER_HOST', () => {
  it('talks to the unix socket a cluster profile names while $DOCKER_HOST is a TCP address', async () => {
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${tcpPort}`;
    expect(await ping(`unix://${socketPath}`)).toBe('OK from unix');
  });

  it('talks plain HTTP to the TCP engine a profile names, whatever $DOCKER_HOST and $DOCKER_TLS_VERIFY say', async () => {
    process.env.DOCKER_HOST = 'tcp://127.0.0.1:9';
    process.env.DOCKER_TLS_VERIFY = '1';
    expect(await ping(`tcp://127.0.0.1:${tcpPort}`)).toBe('OK from tcp');
    process.env.DOCKER_HOST = `unix://${socketPath}`;
    expect(await ping(`tcp://127.0.0.1:${tcpPort}`)).toBe('OK from tcp');
  });

  it('still uses $DOCKER_HOST when the profile names no engine', () => {
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${tcpPort}`;
    expect(engineAddress(undefined).url).toBe(`tcp://127.0.0.1:${tcpPort}`);
  });
});
