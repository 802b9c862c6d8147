import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ConsoleNotice } from '../../src/agents/notices.js';
import { jdkAvailable, requireService } from './services.js';

/** Drives gocd-plugin/test-harness (GocdPluginHost): the built jar loaded and called the way GoCD's server does. */

export const PLUGIN_DIR = join(import.meta.dirname, '..', '..', 'gocd-plugin');
export const JAR = join(PLUGIN_DIR, 'dist', 'gocd-agent-scaler-plugin.jar');
export const GSON = process.env.GSON_JAR ?? '/usr/share/java/gson.jar';
export const EA = 'cd.go.elastic-agent.';

/** Whether the forwarder suites can run (JDK and Gson present); under CI a missing one fails loudly. */
export function forwarderToolsAvailable(): boolean {
  return requireService(
    'JDK',
    jdkAvailable() && existsSync(GSON),
    'the forwarder plugin needs a JDK 17 and Gson (Debian: apt-get install default-jdk-headless libgoogle-gson-java)',
  );
}

/** build.sh rebuilds only when a source (or the service's loader answers) changed, one build at a time. */
export function ensureBuilt(): void {
  execFileSync(join(PLUGIN_DIR, 'build.sh'), { stdio: ['ignore', 'ignore', 'inherit'], timeout: 400_000 });
}

export interface AccessorCall {
  api: string;
  version: string;
  extension: string;
  body: string | null;
  /** What GoCD's processor answered (the harness applies the processors' rules). */
  status: number;
}

export interface HandleResult {
  op: 'handle';
  request: string;
  status: number;
  body: string | null;
  ms: number;
  accessorCalls: AccessorCall[];
}

export interface LoadStep {
  request: string;
  status?: number;
  body?: string | null;
  problem?: string;
  ms: number;
}

export interface LoadResult {
  op: 'load';
  loaded: boolean;
  verdict: string;
  pluginSettings?: string;
  steps: LoadStep[];
  accessorCalls: AccessorCall[];
}

export interface GocdState {
  op: 'state';
  /** Console text per `pipeline/counter/stage/counter/job`. */
  consoles: Record<string, string>;
  health: { level: 'warning' | 'error'; message: string }[];
}

export interface BenchResult {
  op: 'bench';
  request: string;
  n: number;
  non200: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface HostRun {
  loaded: {
    pluginId: string;
    extensionClass: string;
    extension: string;
    versions: string[];
    gsonFrom: string;
    entries: string[];
  };
  /** Every output line after `loaded`, in order (handle, load, state, bench …). */
  out: ({ op: string } & Record<string, unknown>)[];
  handled: HandleResult[];
  loads: LoadResult[];
  states: GocdState[];
  benches: BenchResult[];
  parallel: { results: { status: number; body: string }[] }[];
  logs: string[];
  stderr: string;
}

const b64 = (body: unknown) => Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)).toString('base64');

/** Harness commands (see GocdPluginHost). */
export const cmd = {
  handle: (name: string, body?: unknown) => `handle ${name} ${body === undefined ? '-' : b64(body)}`,
  load: (migrateBody?: unknown) => `load ${migrateBody === undefined ? '-' : b64(migrateBody)}`,
  listAgents: (status: number, agents: unknown) => `list-agents ${status} ${b64(agents)}`,
  parallel: (n: number, name: string, body: unknown) => `parallel ${n} ${name} ${b64(body)}`,
  bench: (n: number, name: string, body: unknown) => `bench ${n} ${name} ${b64(body)}`,
  fail: (api: string, mode: number | 'throw' | 'clear') => `fail ${api} ${mode}`,
  state: () => 'state',
};

export interface HostOptions {
  /** How the plugin finds the service: the server's environment, -D system properties, or not at all. */
  via: 'env' | 'properties' | 'unconfigured';
  url?: string;
  token?: string;
  /** Extra JVM system properties (e.g. a short request deadline). */
  properties?: Record<string, string>;
  /** The plugin jar to load (default the built forwarder). */
  jar?: string;
  timeoutMs?: number;
}

/** Runs the harness JVM over `commands` and parses its output. */
export function runHost(commands: string[], options: HostOptions): Promise<HostRun> {
  const env = { ...process.env };
  delete env.GOCD_AGENT_SCALER_URL;
  delete env.GOCD_AGENT_SCALER_TOKEN;
  const props = Object.entries(options.properties ?? {}).map(([k, v]) => `-D${k}=${v}`);
  if (options.via === 'env')
    Object.assign(env, { GOCD_AGENT_SCALER_URL: options.url, GOCD_AGENT_SCALER_TOKEN: options.token });
  if (options.via === 'properties')
    props.push(`-Dgocd.agent.scaler.url=${options.url}`, `-Dgocd.agent.scaler.token=${options.token}`);
  const classpath = [join(PLUGIN_DIR, 'build', 'harness'), join(PLUGIN_DIR, 'build', 'stubs'), GSON].join(':');
  const child = spawn(
    'java',
    [...props, '-cp', classpath, 'gocd.agent.scaler.harness.GocdPluginHost', options.jar ?? JAR],
    {
      env,
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin.end(`${commands.join('\n')}\n`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`harness exited with ${code}\n${stderr}`));
        return;
      }
      const lines = stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as { op: string } & Record<string, unknown>);
      const of = <T>(op: string) => lines.filter((l) => l.op === op) as unknown as T[];
      resolve({
        loaded: lines.find((l) => l.op === 'loaded') as unknown as HostRun['loaded'],
        out: lines.filter((l) => l.op !== 'loaded' && l.op !== 'logs'),
        handled: of<HandleResult>('handle'),
        loads: of<LoadResult>('load'),
        states: of<GocdState>('state'),
        benches: of<BenchResult>('bench'),
        parallel: of<HostRun['parallel'][number]>('parallel'),
        logs: (lines.find((l) => l.op === 'logs')?.lines as string[]) ?? [],
        stderr,
      });
    });
  });
}

/** What reached the service: a pass-through proxy in front of it records every forwarded request. */
export interface Forwarded {
  name: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

export async function startRecordingProxy(target: string, seen: Forwarded[]): Promise<Server> {
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({
        name: decodeURIComponent((req.url ?? '').replace(/^\/gocd\/requests\//, '')),
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body,
      });
      const headers: Record<string, string> = {};
      for (const h of ['authorization', 'content-type', 'accept']) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      fetch(`${target}${req.url}`, { method: req.method, headers, body: req.method === 'POST' ? body : undefined })
        .then(async (r) => {
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
          res.end(await r.text());
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await listen(proxy);
  return proxy;
}

/** A service that accepts every request, records its name and never answers (slower than any deadline). */
export async function startSilentService(seen: string[]): Promise<Server> {
  const server = createServer((req) => {
    seen.push(decodeURIComponent((req.url ?? '').replace(/^\/gocd\/requests\//, '')));
    req.resume();
  });
  await listen(server);
  return server;
}

async function listen(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
}

export function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A loopback port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await listen(s);
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * GoCD's ConsoleLogRequestProcessor (API 2.0) reads ConsoleLogAppendRequest2_0: these six keys, pipeline_counter an
 * Integer, the rest strings. The text carries GoCD's console prefix per line (log_output_transformer.js).
 */
export function parseConsoleAppend(call: AccessorCall): ConsoleNotice {
  if (call.api !== 'go.processor.console-log.append' || call.version !== '2.0')
    throw new Error(`not a 2.0 append: ${call.api}`);
  const body = JSON.parse(call.body ?? 'null') as Record<string, unknown>;
  for (const k of ['pipeline_name', 'stage_name', 'stage_counter', 'job_name', 'text']) {
    if (typeof body[k] !== 'string') throw new Error(`${k} is not a string`);
  }
  if (!Number.isInteger(body.pipeline_counter)) throw new Error('pipeline_counter is not an integer');
  for (const line of (body.text as string).replace(/\n$/, '').split('\n')) {
    if (!/^##\|\d\d:\d\d:\d\d\.\d\d\d \[go\] /.test(line)) throw new Error(`not a GoCD console line: ${line}`);
  }
  return body as unknown as ConsoleNotice;
}

/** ServerHealthRequestProcessor (API 1.0) reads a list of PluginHealthMessage {type, message}. */
export function parseHealthMessages(call: AccessorCall): { type: string; message: string }[] {
  if (call.api !== 'go.processor.server-health.add-messages' || call.version !== '1.0') {
    throw new Error(`not a 1.0 add-messages: ${call.api}`);
  }
  const body = JSON.parse(call.body ?? 'null') as unknown;
  if (!Array.isArray(body)) throw new Error('not a list');
  for (const m of body as Record<string, unknown>[]) {
    if (typeof m.type !== 'string' || typeof m.message !== 'string') throw new Error('not a {type, message}');
  }
  return body as { type: string; message: string }[];
}
