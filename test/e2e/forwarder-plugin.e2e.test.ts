import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { CLUSTER, fixture, PROFILE } from '../support/gocd-bodies.js';
import { jdkAvailable, requireService } from '../support/services.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const PLUGIN_DIR = join(import.meta.dirname, '..', '..', 'gocd-plugin');
const JAR = join(PLUGIN_DIR, 'dist', 'gocd-agent-scaler-plugin.jar');
const GSON = '/usr/share/java/gson.jar';
const EA = 'cd.go.elastic-agent.';

const ok = requireService(
  'JDK',
  jdkAvailable() && (existsSync(GSON) || existsSync(JAR)),
  'the forwarder plugin needs a JDK 17 and Gson (Debian: apt-get install default-jdk-headless libgoogle-gson-java)',
);

/** build.sh rebuilds only when a source is newer than the jar, one build at a time (a lock shared with test.sh). */
function ensureBuilt(): void {
  execFileSync(join(PLUGIN_DIR, 'build.sh'), { stdio: ['ignore', 'ignore', 'inherit'], timeout: 400_000 });
}

interface AccessorCall {
  api: string;
  version: string;
  extension: string;
  body: string | null;
}
interface HandleResult {
  op: 'handle';
  request: string;
  status: number;
  body: string | null;
  ms: number;
  accessorCalls: AccessorCall[];
}
interface HostRun {
  loaded: {
    pluginId: string;
    extensionClass: string;
    extension: string;
    versions: string[];
    gsonFrom: string;
    entries: string[];
  };
  handled: HandleResult[];
  parallel: { results: { status: number; body: string }[] }[];
  logs: string[];
  stderr: string;
}

/** Commands for the GoCD host harness (see GocdPluginHost). */
const b64 = (body: unknown) => Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)).toString('base64');
const handle = (name: string, body?: unknown) => `handle ${name} ${body === undefined ? '-' : b64(body)}`;
const listAgents = (status: number, agents: unknown) => `list-agents ${status} ${b64(agents)}`;
const parallel = (n: number, name: string, body: unknown) => `parallel ${n} ${name} ${b64(body)}`;

/**
 * Runs the harness JVM: it loads the built jar as GoCD would and plays GoCD's side. The service URL and token reach
 * the plugin through the server's environment or through -D system properties, the two ways the README gives.
 */
function runHost(commands: string[], via: 'env' | 'properties', url: string, token: string): Promise<HostRun> {
  const env = { ...process.env };
  delete env.GOCD_AGENT_SCALER_URL;
  delete env.GOCD_AGENT_SCALER_TOKEN;
  const props: string[] = [];
  if (via === 'env') Object.assign(env, { GOCD_AGENT_SCALER_URL: url, GOCD_AGENT_SCALER_TOKEN: token });
  else props.push(`-Dgocd.agent.scaler.url=${url}`, `-Dgocd.agent.scaler.token=${token}`);
  const classpath = [join(PLUGIN_DIR, 'build', 'harness'), join(PLUGIN_DIR, 'build', 'stubs')].join(':');
  const child = spawn('java', [...props, '-cp', classpath, 'gocd.agent.scaler.harness.GocdPluginHost', JAR], { env });
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
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
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
      resolve({
        loaded: lines.find((l) => l.op === 'loaded') as unknown as HostRun['loaded'],
        handled: lines.filter((l) => l.op === 'handle') as unknown as HandleResult[],
        parallel: lines.filter((l) => l.op === 'parallel') as unknown as HostRun['parallel'],
        logs: (lines.find((l) => l.op === 'logs')?.lines as string[]) ?? [],
        stderr,
      });
    });
  });
}

/** What reached the service: a pass-through proxy in front of it records every forwarded request. */
interface Forwarded {
  name: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

async function startRecordingProxy(target: string, seen: Forwarded[]): Promise<Server> {
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
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return proxy;
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const JOB_ID = -1; // GoCD's own fixtures use job id -1
const AGENT_ID = agentIdFor(CLUSTER.cluster_id, JOB_ID);
const GOCD_AGENT = { agent_id: AGENT_ID, agent_state: 'Idle', build_state: 'Idle', config_state: 'Enabled' };

/** GoCD's captured bodies, with our property keys where the service needs to act on them. */
const bodies = {
  createAgent: {
    ...fixture('create-agent.json'),
    cluster_profile_properties: CLUSTER,
    elastic_agent_profile_properties: PROFILE,
  },
  shouldAssign: (agentId: string) => {
    const f = fixture<{ agent: Record<string, unknown>; job_identifier: Record<string, unknown> }>(
      'should-assign-work.json',
    );
    return {
      ...f,
      agent: { ...f.agent, agent_id: agentId },
      cluster_profile_properties: CLUSTER,
      job_identifier: { ...f.job_identifier, job_id: JOB_ID },
    };
  },
  serverPing: { ...fixture('server-ping.json'), all_cluster_profile_properties: [CLUSTER] },
  jobCompletion: {
    ...fixture('job-completion.json'),
    elastic_agent_id: AGENT_ID,
    cluster_profile_properties: CLUSTER,
    elastic_agent_profile_properties: PROFILE,
  },
  migrateConfig: fixture('migrate-config.json'),
};

describe.skipIf(!ok)('the forwarder plugin jar, loaded by a GoCD plugin host, against the real service', () => {
  let t: TestApp;
  let proxy: Server;
  let proxyUrl: string;
  const seen: Forwarded[] = [];

  beforeAll(async () => {
    ensureBuilt();
    t = await createTestApp();
    const serviceUrl = await t.app.listen({ host: '127.0.0.1', port: 0 });
    proxy = await startRecordingProxy(serviceUrl, seen);
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  }, 420_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
    await t?.close();
  });

  describe('a full job lifecycle with the service up (settings from the environment)', () => {
    let run: HostRun;
    const result = (name: string, nth = 0) => run.handled.filter((h) => h.request === `${EA}${name}`)[nth]!;
    const json = (name: string) => JSON.parse(result(name).body ?? 'null');

    beforeAll(async () => {
      seen.length = 0;
      run = await runHost(
        [
          handle('go.plugin-settings.get-configuration'),
          handle(`${EA}get-icon`),
          handle(`${EA}get-capabilities`),
          handle(`${EA}get-elastic-agent-profile-metadata`),
          handle(`${EA}get-cluster-profile-metadata`),
          handle(`${EA}get-cluster-profile-view`),
          handle(`${EA}validate-elastic-agent-profile`, { image: null, cpu: null }),
          handle(`${EA}migrate-config`, bodies.migrateConfig),
          handle(`${EA}create-agent`, bodies.createAgent),
          parallel(6, `${EA}create-agent`, bodies.createAgent),
          handle(`${EA}should-assign-work`, bodies.shouldAssign(AGENT_ID)),
          handle(`${EA}should-assign-work`, fixture('should-assign-work.json')),
          listAgents(200, [GOCD_AGENT]),
          handle(`${EA}server-ping`, bodies.serverPing),
          handle(`${EA}job-completion`, bodies.jobCompletion),
        ],
        'env',
        proxyUrl,
        t.token,
      );
    }, 90_000);

    it('is found by the host like GoCD finds it: one @Extension, plugin id gocd-agent-scaler, elastic-agent 5.0', () => {
      expect(run.loaded).toMatchObject({
        pluginId: 'gocd-agent-scaler',
        extensionClass: 'gocd.agent.scaler.forwarder.ForwarderPlugin',
        extension: 'elastic-agent',
        versions: ['5.0'],
      });
      expect(run.loaded.entries.filter((e) => e.startsWith('com/thoughtworks/'))).toEqual([]);
      expect(run.loaded.entries).toEqual(expect.arrayContaining(['plugin.xml', 'lib/gson.jar']));
      expect(run.loaded.gsonFrom).toMatch(/\/lib\/gson\.jar$/);
    });

    it('answers the plugin-load requests with the shapes GoCD reads', () => {
      expect(result('get-icon').status).toBe(200);
      expect(json('get-icon').content_type).toBe('image/svg+xml');
      expect(Buffer.from(json('get-icon').data, 'base64').toString()).toMatch(/^<svg[\s\S]*<\/svg>$/);
      expect(json('get-capabilities')).toEqual({
        supports_plugin_status_report: expect.any(Boolean),
        supports_cluster_status_report: expect.any(Boolean),
        supports_agent_status_report: expect.any(Boolean),
      });
      const metadata = json('get-elastic-agent-profile-metadata') as { key: string; metadata: { required: boolean } }[];
      expect(metadata.find((m) => m.key === 'image')?.metadata.required).toBe(true);
      const cluster = json('get-cluster-profile-metadata') as { key: string }[];
      expect(cluster.map((m) => m.key)).toContain('go_server_url');
      expect(json('get-cluster-profile-view').template).toContain('go_server_url');
      const settings = run.handled.find((h) => h.request === 'go.plugin-settings.get-configuration')!;
      expect([settings.status, settings.body]).toEqual([200, '{}']);
    });

    it('forwards bodies verbatim with the bearer token, and body-less requests with an empty body', () => {
      const icon = seen.find((s) => s.name === `${EA}get-icon`)!;
      expect(icon).toMatchObject({ authorization: `Bearer ${t.token}`, contentType: 'application/json', body: '' });
      expect(JSON.parse(seen.find((s) => s.name === `${EA}create-agent`)!.body)).toEqual(bodies.createAgent);
      expect(result('validate-elastic-agent-profile').status).toBe(200);
      expect(json('validate-elastic-agent-profile')).toEqual(
        expect.arrayContaining([expect.objectContaining({ key: 'image' })]),
      );
    });

    it('echoes migrate-config profiles through the service', () => {
      expect(result('migrate-config').status).toBe(200);
      expect(json('migrate-config')).toMatchObject({
        cluster_profiles: bodies.migrateConfig.cluster_profiles,
        elastic_agent_profiles: bodies.migrateConfig.elastic_agent_profiles,
      });
    });

    it('makes create-agent launch exactly one agent, even when GoCD threads send it concurrently', () => {
      expect(result('create-agent').status).toBe(200);
      expect(run.parallel[0]!.results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const forJob = t.backend.agents.filter((a) => a.jobId === JOB_ID);
      expect(forJob.map((a) => a.agentId)).toEqual([AGENT_ID]);
      expect(forJob[0]!.env.GO_EA_AUTO_REGISTER_ELASTIC_PLUGIN_ID).toBe(run.loaded.pluginId);
    });

    it('answers should-assign-work inside the plugin: the service never sees it', () => {
      const answers = run.handled.filter((h) => h.request === `${EA}should-assign-work`);
      expect(answers.map((a) => [a.status, a.body])).toEqual([
        [200, 'true'],
        [200, 'false'],
      ]);
      expect(answers.flatMap((a) => a.accessorCalls)).toEqual([]);
      expect(seen.filter((s) => s.name.endsWith('should-assign-work'))).toEqual([]);
    });

    it('sends server-ping with GoCD agent list and touches no young agent', () => {
      const ping = result('server-ping');
      expect([ping.status, ping.body]).toEqual([200, '{}']);
      expect(ping.accessorCalls.map((c) => c.api)).toEqual(['go.processor.elastic-agents.list-agents']);
      const forwarded = JSON.parse(seen.find((s) => s.name === `${EA}server-ping`)!.body);
      expect(forwarded).toEqual({ ...bodies.serverPing, agents: [GOCD_AGENT] });
    });

    it('ends job-completion with the agent stopped, then disabled and deleted through the accessor', () => {
      const done = result('job-completion');
      expect([done.status, done.body]).toEqual([200, '{}']);
      expect(done.accessorCalls.map((c) => [c.api, c.version, c.extension])).toEqual([
        ['go.processor.elastic-agents.list-agents', '1.0', 'elastic-agent'],
        ['go.processor.elastic-agents.disable-agents', '1.0', 'elastic-agent'],
        ['go.processor.elastic-agents.delete-agents', '1.0', 'elastic-agent'],
      ]);
      expect(JSON.parse(done.accessorCalls[1]!.body!)).toEqual([GOCD_AGENT]);
      expect(JSON.parse(done.accessorCalls[2]!.body!)).toEqual([GOCD_AGENT]);
      expect(t.backend.stops.map((s) => s.agentId)).toEqual([AGENT_ID]);
    });

    it('never writes the token to the plugin log', () => {
      expect(run.logs.length).toBeGreaterThan(0);
      expect(run.logs.join('\n')).not.toContain(t.token);
      expect(run.stderr).not.toContain(t.token);
    });
  });

  describe('when the service is down (settings from system properties)', () => {
    let run: HostRun;

    beforeAll(async () => {
      const port = await closedPort();
      run = await runHost(
        [
          handle(`${EA}migrate-config`, bodies.migrateConfig),
          handle(`${EA}create-agent`, bodies.createAgent),
          handle(`${EA}should-assign-work`, bodies.shouldAssign(AGENT_ID)),
          listAgents(200, [GOCD_AGENT]),
          handle(`${EA}server-ping`, bodies.serverPing),
        ],
        'properties',
        `http://127.0.0.1:${port}`,
        t.token,
      );
    }, 90_000);

    it('still answers migrate-config with the request own profiles, never an empty body', () => {
      const migrate = run.handled[0]!;
      expect(migrate.status).toBe(200);
      expect(JSON.parse(migrate.body!)).toEqual(bodies.migrateConfig);
    });

    it('answers create-agent and server-ping with an error status, and disables or deletes nothing', () => {
      expect(run.handled[1]!.status).not.toBe(200);
      const ping = run.handled[3]!;
      expect(ping.status).not.toBe(200);
      expect(ping.accessorCalls.map((c) => c.api)).toEqual(['go.processor.elastic-agents.list-agents']);
    });

    it('still answers should-assign-work, from the plugin', () => {
      expect([run.handled[2]!.status, run.handled[2]!.body]).toEqual([200, 'true']);
    });

    it('logs why, without the token', () => {
      expect(run.logs.join('\n')).toMatch(/create-agent: no answer from the service at http:\/\/127\.0\.0\.1:\d+/);
      expect(run.logs.join('\n')).not.toContain(t.token);
    });
  });

  describe('when GoCD cannot list its agents', () => {
    it('forwards server-ping without an agent list, so the service treats it as unknown and deletes nothing', async () => {
      seen.length = 0;
      const run = await runHost(
        [listAgents(500, { message: 'internal error' }), handle(`${EA}server-ping`, bodies.serverPing)],
        'env',
        proxyUrl,
        t.token,
      );
      const ping = run.handled[0]!;
      expect([ping.status, ping.body]).toEqual([200, '{}']);
      expect(ping.accessorCalls.map((c) => c.api)).toEqual(['go.processor.elastic-agents.list-agents']);
      expect(JSON.parse(seen.find((s) => s.name === `${EA}server-ping`)!.body)).toEqual(bodies.serverPing);
    }, 90_000);
  });

  describe('with a wrong token', () => {
    it('gets the service refusal for ordinary requests and still keeps migrate-config profiles', async () => {
      const before = t.backend.launches.length;
      const run = await runHost(
        [handle(`${EA}create-agent`, bodies.createAgent), handle(`${EA}migrate-config`, bodies.migrateConfig)],
        'env',
        proxyUrl,
        'not-the-token',
      );
      expect(run.handled[0]!.status).toBe(401);
      expect(t.backend.launches.length).toBe(before);
      expect([run.handled[1]!.status, JSON.parse(run.handled[1]!.body!)]).toEqual([200, bodies.migrateConfig]);
    }, 90_000);
  });
});
