// Hostile clients against the real service (`src/main/server.ts` in its own process, Docker backend unused, memory store):
// (1) many slow, unauthenticated bodies to a body-signed (GitHub) registry webhook, (2) create-agent requests with
// huge and with many distinct invalid cluster ids, then the size of `GET /metrics`. Shared by
// bench/hostile-clients.bench.ts; `root` may name another checkout of the service (to measure before/after a change).

import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { job } from '../../test/support/gocd-bodies.js';

export interface HostileOptions {
  /** Checkout whose `src/main/server.ts` runs (default this one). */
  root?: string;
  /** Slow connections held open at once (default 150). */
  slowClients?: number;
  /** How long the slow senders keep sending (default 70 s); open connections are counted at half and at the end. */
  slowSeconds?: number;
  /** Distinct invalid cluster ids sent in create-agent (default 20,000). */
  distinctIds?: number;
  log?: (line: string) => void;
}

export interface HostileReport {
  /** 1,000,000-byte bodies (the attack), then bodies announced just under the default webhook limit. */
  slow: SlowReport;
  slowUnderLimit: SlowReport;
  hugeIds: { requests: number; idBytes: number; rssAfterMb: number; metricsBytes: number };
  distinctIds: { requests: number; rssAfterMb: number; metricsBytes: number; createAgentSeries: number };
}

export interface SlowReport {
  clients: number;
  /** Body length each sender announced. */
  announcedBytes: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  /** Connections the server still held open at half time and at the end. */
  openAtHalf: number;
  openAtEnd: number;
  /** Answers the slow senders got (status → count). */
  answers: Record<string, number>;
  seconds: number;
}

const FORWARDER_TOKEN = `hostile-forwarder-${randomBytes(12).toString('hex')}`;
const HMAC_SECRET = `hostile-hmac-${randomBytes(12).toString('hex')}`;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Runs both attacks against a fresh service process and returns the figures. */
export async function runHostileClients(options: HostileOptions = {}): Promise<HostileReport> {
  const log = options.log ?? (() => undefined);
  const root = options.root ?? join(import.meta.dirname, '..', '..');
  const slowClients = options.slowClients ?? 150;
  const slowSeconds = options.slowSeconds ?? 70;
  const distinct = options.distinctIds ?? 20_000;
  const dir = mkdtempSync(join(tmpdir(), 'gocd-agent-scaler-hostile-'));
  const configFile = join(dir, 'config.yaml');
  writeFileSync(
    configFile,
    `log: { level: warn }
gocd:
  forwarderToken: ${FORWARDER_TOKEN}
  apiUrl: http://127.0.0.1:9/go
  apiToken: unused-api-token
registries:
  - { name: gh, type: github, host: ghcr.io, secret: ${HMAC_SECRET} }
`,
  );
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // A checkout from before the composition root moved to src/main/ keeps its entry at src/server.ts.
  const entry = [join(root, 'src', 'main', 'server.ts'), join(root, 'src', 'server.ts')].find((f) => existsSync(f))!;
  const child: ChildProcess = fork(entry, [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, SCALER_CONFIG: configFile, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  try {
    const readyBy = Date.now() + 60_000;
    for (;;) {
      try {
        if ((await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1_000) })).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > readyBy) throw new Error('the service did not answer /healthz within 60 s');
      await sleep(100);
    }
    const pid = child.pid!;
    log(`service up on ${base} (pid ${pid}, ${root})`);
    const slow = await slowBodies(port, pid, slowClients, slowSeconds, 1_000_000, log);
    const slowUnderLimit = await slowBodies(port, pid, slowClients, slowSeconds, 250_000, log);
    const hugeIds = await hugeClusterIds(base, pid, log);
    const distinctIds = await distinctClusterIds(base, pid, distinct, log);
    return { slow, slowUnderLimit, hugeIds, distinctIds };
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `clients` connections each announce an `announced`-byte body with a forged (well-formed) GitHub signature and send
 * 90% of it evenly over `seconds`, so a server that buffers unauthenticated bodies until they end holds 90% of the
 * announced length per connection at the end.
 */
async function slowBodies(
  port: number,
  pid: number,
  clients: number,
  seconds: number,
  announced: number,
  log: (line: string) => void,
): Promise<SlowReport> {
  await sleep(1_000);
  const rssBeforeMb = rssMb(pid);
  const head = [
    'POST /registry/gh HTTP/1.1',
    'Host: 127.0.0.1',
    'Content-Type: application/json',
    `Content-Length: ${announced}`,
    `X-Hub-Signature-256: sha256=${'0'.repeat(64)}`,
    'X-GitHub-Event: package',
    '',
    '',
  ].join('\r\n');
  // 90% of the announced length by the end, never more (extra bytes would start a second request).
  const chunk = Buffer.alloc(Math.floor((announced * 0.9) / (seconds * 4)), 'x');
  const answers: Record<string, number> = {};
  const open = new Set<Socket>();
  const sockets: Socket[] = [];
  for (let i = 0; i < clients; i++) {
    const s = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    let reply = '';
    s.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1];
      if (status && !reply.includes('\0counted')) {
        answers[status] = (answers[status] ?? 0) + 1;
        reply += '\0counted';
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => open.delete(s));
    open.add(s);
    sockets.push(s);
    s.write(head);
  }
  let peak = rssMb(pid);
  const started = Date.now();
  let openAtHalf = -1;
  while (Date.now() - started < seconds * 1000) {
    for (const s of open) if (s.writable) s.write(chunk);
    await sleep(250);
    peak = Math.max(peak, rssMb(pid));
    if (openAtHalf < 0 && Date.now() - started >= (seconds * 1000) / 2) {
      openAtHalf = open.size;
      log(
        `slow ${announced}-byte bodies: ${open.size} of ${clients} open at ${seconds / 2} s, RSS ${rssMb(pid).toFixed(0)} MB`,
      );
    }
  }
  const openAtEnd = open.size;
  for (const s of sockets) s.destroy();
  log(
    `slow ${announced}-byte bodies: ${openAtEnd} open at ${seconds} s; peak RSS ${peak.toFixed(0)} MB; answers ${JSON.stringify(answers)}`,
  );
  return { clients, announcedBytes: announced, rssBeforeMb, rssPeakMb: peak, openAtHalf, openAtEnd, answers, seconds };
}

const gocdHeaders = { authorization: `Bearer ${FORWARDER_TOKEN}`, 'content-type': 'application/json' };

function createAgent(base: string, clusterId: string, jobId: number): Promise<Response> {
  return fetch(`${base}/gocd/requests/cd.go.elastic-agent.create-agent`, {
    method: 'POST',
    headers: gocdHeaders,
    body: JSON.stringify({
      auto_register_key: 'hostile-key',
      elastic_agent_profile_properties: { image: 'busybox' },
      cluster_profile_properties: { go_server_url: 'https://gocd.example.com/go', cluster_id: clusterId },
      job_identifier: job(jobId),
    }),
  });
}

async function metricsBytes(base: string): Promise<{ bytes: number; text: string }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return { bytes: Buffer.byteLength(text), text };
}

/** 100 create-agent requests whose cluster_id is 900 KB (each answered; the id is invalid). */
async function hugeClusterIds(
  base: string,
  pid: number,
  log: (line: string) => void,
): Promise<HostileReport['hugeIds']> {
  const requests = 100;
  const idBytes = 900_000;
  for (let i = 0; i < requests; i++) {
    const res = await createAgent(base, `${i}-${'x'.repeat(idBytes - 8)}`, i);
    await res.arrayBuffer();
  }
  const { bytes } = await metricsBytes(base);
  const rss = rssMb(pid);
  log(`huge ids: /metrics ${bytes} bytes, RSS ${rss.toFixed(0)} MB`);
  return { requests, idBytes, rssAfterMb: rss, metricsBytes: bytes };
}

/** `count` create-agent requests with distinct invalid (over-long) cluster ids, 8 at a time. */
async function distinctClusterIds(
  base: string,
  pid: number,
  count: number,
  log: (line: string) => void,
): Promise<HostileReport['distinctIds']> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) {
        const i = next++;
        const res = await createAgent(base, `distinct-invalid-cluster-id-${i}`, 1_000_000 + i);
        await res.arrayBuffer();
      }
    }),
  );
  const { bytes, text } = await metricsBytes(base);
  const series = text.split('\n').filter((l) => l.startsWith('gocd_agent_scaler_create_agent_total{')).length;
  const rss = rssMb(pid);
  log(`distinct ids: /metrics ${bytes} bytes, ${series} create-agent series, RSS ${rss.toFixed(0)} MB`);
  return { requests: count, rssAfterMb: rss, metricsBytes: bytes, createAgentSeries: series };
}
