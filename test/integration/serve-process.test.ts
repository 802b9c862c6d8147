import { type ChildProcess, spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
let child: ChildProcess | undefined;
let blocker: Server | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child?.once('exit', r));
  }
  child = undefined;
  await new Promise((r) => (blocker ? blocker.close(r) : r(undefined)));
  blocker = undefined;
});

/** `gocd-agent-scaler serve` as its own process (from source), with what it wrote to stdout and stderr. */
function serve(env: NodeJS.ProcessEnv) {
  const streams = { stdout: '', stderr: '' };
  child = spawn(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', 'serve'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
  });
  child.stdout?.on('data', (d: Buffer) => (streams.stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (streams.stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child?.once('exit', (code) => r(code)));
  const listening = new Promise<void>((resolve, reject) => {
    child?.stdout?.on('data', () => {
      if (streams.stdout.includes('gocd-agent-scaler listening')) resolve();
    });
    void exited.then((code) => reject(new Error(`serve exited ${code}:\n${streams.stdout}${streams.stderr}`)));
  });
  // Awaited only by the tests that expect a listening server; the others wait for the exit instead.
  listening.catch(() => undefined);
  return { streams, exited, listening };
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('gocd-agent-scaler serve as a process', () => {
  it('hands a generated token over as one JSON line on stderr, so both streams stay JSON lines', async () => {
    const run = serve({ PORT: '0' });
    await run.listening;
    const err = jsonLines(run.streams.stderr);
    const out = jsonLines(run.streams.stdout);
    const handed = err.filter((l) => typeof l.generatedForwarderToken === 'string');
    expect(handed).toHaveLength(1);
    expect(handed[0]!.generatedForwarderToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(handed[0]!.msg).toContain('SCALER_FORWARDER_TOKEN');
    // The service's own log (stdout) never carries it.
    expect(run.streams.stdout).not.toContain(handed[0]!.generatedForwarderToken as string);
    expect(out.some((l) => l.msg === 'gocd-agent-scaler listening')).toBe(true);
  }, 60_000);

  it('says in one line that the port is in use, and exits 1 without a stack trace', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker?.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    const run = serve({ PORT: String(port), SCALER_FORWARDER_TOKEN: 'serve-process-token-0123456789' });
    expect(await run.exited).toBe(1);
    expect(run.streams.stderr).toBe(
      `cannot listen on 127.0.0.1:${port}: the address is already in use (another process listens there) (EADDRINUSE); choose another with PORT=<port> (or HOST=<address>), or server.port in the config\n`,
    );
  }, 60_000);

  it('says what is wrong with the config in plain lines and exits 2', async () => {
    const run = serve({ PORT: 'eighty', SCALER_FORWARDER_TOKEN: 'serve-process-token-0123456789' });
    expect(await run.exited).toBe(2);
    expect(run.streams.stderr).toContain('/server/port: must be integer');
    expect(run.streams.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});
