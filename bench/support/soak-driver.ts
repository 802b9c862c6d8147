// The soak: the real service (`src/main/server.ts`, its own process, ECS backend over the loopback fake ECS endpoint,
// registry triggers with the memory store against a fake GoCD) driven at a steady rate by a simulated GoCD server
// and a simulated registry, under a fault schedule (ECS throttling bursts, RunTask failures, GoCD 503/409 answers,
// registry redeliveries). At the end it checks the invariants: every pushed (image, tag, digest) scheduled exactly
// once per subscribed pipeline, at most one task per job, no live task left, no 5xx, no secret in the service's
// log, no call to a host named in a payload, RSS bounded. Shared by bench/soak.bench.ts and test/soak/.

import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { FakeEcs, type FakeTask } from '../../test/support/fake-ecs/fake-ecs-server.js';
import { FakeGocd } from '../../test/support/fake-gocd.js';

/** What to run; every phase is bounded in time. */
export interface SoakOptions {
  /** Traffic and faults, in ms. */
  durationMs: number;
  /**
   * Longest wait, after traffic stops, for jobs to finish (default 60 s). Triggers the service claimed are waited for
   * until it ends them (scheduled or reported), however long its GoCD retries take within its retry window.
   */
  drainMs?: number;
  /** New GoCD jobs per second (default 2). */
  jobsPerSecond?: number;
  /** New registry pushes per second (default 2). */
  pushesPerSecond?: number;
  /** Background should-assign-work load through autocannon, requests/s (default 50; 0 = none). */
  shouldAssignRate?: number;
  /** RSS sampling period in ms (default 2 s). */
  sampleEveryMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /**
   * The ECS launch set-up: cluster-profile properties (launch type or capacity provider, networking, roles) and the
   * capacity providers of the fake cluster; default EC2 bridge.
   */
  setup?: { props: Record<string, string>; capacityProviders: string[] };
}

/** Requests sent and the ones that went wrong (network error, timeout, or a status not expected). */
export interface KindStats {
  sent: number;
  errors: number;
  status5xx: number;
}

/** The figures of one soak run; `violations` lists every broken invariant (empty = pass). */
export interface SoakReport {
  durationS: number;
  requests: number;
  errors: number;
  status5xx: number;
  byKind: Record<string, KindStats>;
  background: { requests: number; non2xx: number; errors: number };
  jobs: { created: number; completed: number; unfinished: number };
  tasks: { total: number; maxPerJob: number; jobsWithSeveral: number; leaked: number };
  triggers: { pushes: number; expected: number; scheduled: number; lost: number; duplicated: number };
  shouldAssign: { checked: number; wrong: number };
  faults: {
    ecsThrottled: number;
    runTaskFailures: number;
    gocdErrorAnswers: number;
    redeliveries: number;
    repushes: number;
  };
  payloadHostCalls: number;
  service: { errorLines: number; secretLines: number; exitedEarly: boolean };
  rss: { firstMb: number; warmMb: number; lastMb: number; maxMb: number; samples: number; boundMb: number };
  violations: string[];
}

const FORWARDER_TOKEN = `soak-forwarder-${randomBytes(12).toString('hex')}`;
const GOCD_API_TOKEN = `soak-gocd-api-${randomBytes(12).toString('hex')}`;
const REGISTRY_SECRET = `soak-registry-${randomBytes(12).toString('hex')}`;
const ARK_PREFIX = 'soak-ark-';
const REGISTRY_HOST = 'registry.soak.test';
const BASE_CLUSTER = {
  go_server_url: 'https://gocd.soak.test/go',
  cluster_id: 'soak',
  backend: 'ecs',
  cluster: 'soak',
  region: 'us-east-1',
  max_agents: '200',
};
const PROFILE = { image: 'gocd/gocd-agent-debian-12:v25.1.0', cpu: '256', memory: '512' };
const PIPELINES = ['soak-all', 'soak-svc0', 'soak-flaky'];
/** Pipelines subscribed to a push of `repository:tag` (mirrors the YAML below). */
const pipelinesFor = (repository: string, tag: string) =>
  repository === 'soak/svc-0' && /^1\./.test(tag) ? ['soak-all', 'soak-svc0', 'soak-flaky'] : ['soak-all'];
/** Above this RSS growth (warm sample → last sample) the run fails: leaks grow with traffic, caches do not. */
const RSS_GROWTH_BOUND_MB = 64;
/** `gocd.scheduleRetryWindowSeconds` of the soak's service: how long it retries GoCD 409/5xx before reporting. */
const SCHEDULE_RETRY_WINDOW_S = 120;
/** The service's longest single schedule attempt (GocdScheduleClient's default `attemptTimeoutMs`). */
const SCHEDULE_ATTEMPT_TIMEOUT_MS = 10_000;
/**
 * Longest wait for a trigger the service claimed (its webhook answer said `triggered`): the service schedules it or
 * reports it (`pipeline not scheduled`) within its retry window plus one attempt; a few seconds more for the log line.
 */
const TRIGGER_END_BOUND_MS = SCHEDULE_RETRY_WINDOW_S * 1000 + SCHEDULE_ATTEMPT_TIMEOUT_MS + 5_000;
/** Start-up (the /healthz wait), final sweep and shutdown, at most (see runSoak). */
const SOAK_OVERHEAD_MS = 60_000 + 10_000 + 10_000;

/**
 * The longest a soak with these options can take: start-up, traffic, then the drain, which lasts until every job
 * finished (at most `drainMs`) and every trigger the service claimed ended (at most TRIGGER_END_BOUND_MS after the
 * last claim, made before the last delayed redelivery), then the sweep and shutdown. Test timeouts derive from it.
 */
export function soakBoundMs(options: Pick<SoakOptions, 'durationMs' | 'drainMs'>): number {
  const lastClaim = options.durationMs + 5_000;
  return (
    SOAK_OVERHEAD_MS + Math.max(options.durationMs + (options.drainMs ?? 60_000), lastClaim + TRIGGER_END_BOUND_MS)
  );
}
/** The service's old-space limit during a soak (see the fork below). */
const SERVICE_HEAP_MB = 128;

const configYaml = (gocdUrl: string) => `
log: { level: info }
limits: { bodyBytes: 1048576 }
gocd:
  forwarderToken: ${FORWARDER_TOKEN}
  apiUrl: ${gocdUrl}
  apiToken: ${GOCD_API_TOKEN}
  scheduleRetryWindowSeconds: ${SCHEDULE_RETRY_WINDOW_S}
registries:
  - { name: soak, type: distribution, host: ${REGISTRY_HOST}, secret: ${REGISTRY_SECRET} }
subscriptions:
  - { image: ${REGISTRY_HOST}/soak/*, pipelines: [soak-all] }
  - { image: ${REGISTRY_HOST}/soak/svc-0, tags: '^1\\.', pipelines: [soak-svc0, soak-flaky] }
`;

interface SimJob {
  id: number;
  counter: number;
  state: 'waiting' | 'assigned' | 'done';
  nextResendAt: number;
  completeAt?: number;
  busy: boolean;
}

interface SimAgent {
  agent_id: string;
  agent_state: string;
  build_state: string;
  config_state: string;
  jobId: number;
  busy: boolean;
}

interface Push {
  at: number;
  repository: string;
  tag: string;
  digest: string;
  body: string;
}

type Json = Record<string, unknown>;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function jobIdentifier(job: SimJob): Json {
  return {
    pipeline_name: 'soak',
    pipeline_counter: job.counter,
    pipeline_label: String(job.counter),
    stage_name: 'build',
    stage_counter: '1',
    job_name: 'job',
    job_id: job.id,
  };
}

/** The job id a task was launched for: its tag, or (tags are dropped by StopTask) its overrides' agent id. */
function taskJobId(task: FakeTask): number | undefined {
  const tag = task.tags.find((t) => t.key === 'gocd-agent-scaler:job-id');
  if (tag) return Number(tag.value);
  const overrides = task.overrides as { containerOverrides?: { environment?: { name: string; value: string }[] }[] };
  for (const c of overrides?.containerOverrides ?? []) {
    const id = c.environment?.find((e) => e.name === 'GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID')?.value;
    const m = id ? /^ea-(-?\d+)-/.exec(id) : null;
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** Runs one soak and returns its figures; throws only when the service cannot be started. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const drainMs = options.drainMs ?? 60_000;
  const jobsPerSecond = options.jobsPerSecond ?? 2;
  const pushesPerSecond = options.pushesPerSecond ?? 2;
  const shouldAssignRate = options.shouldAssignRate ?? 50;
  const sampleEveryMs = options.sampleEveryMs ?? 2_000;

  const setup = options.setup ?? { props: { launch_type: 'EC2' }, capacityProviders: [] };
  const CLUSTER = { ...BASE_CLUSTER, ...setup.props };
  // The strict endpoint: service-model validation, linked-field rules and ECS's throttling buckets all apply.
  const ecs = await new FakeEcs({
    seed: 7,
    clusters: [{ name: 'soak', capacityProviders: setup.capacityProviders }],
  }).start();
  const gocd = await new FakeGocd(GOCD_API_TOKEN).start();
  for (const p of PIPELINES) gocd.pipeline(p);
  // A host that payloads name (target.url, request.host): the service must never call it (SSRF).
  let payloadHostCalls = 0;
  const trap: Server = createServer((_req, res) => {
    payloadHostCalls++;
    res.end();
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  const trapHost = `127.0.0.1:${(trap.address() as AddressInfo).port}`;

  const dir = mkdtempSync(join(tmpdir(), 'gocd-agent-scaler-soak-'));
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, configYaml(gocd.url));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child: ChildProcess = fork(join(import.meta.dirname, '..', '..', 'src', 'main', 'server.ts'), [], {
    // A bounded old space, so that RSS growth means a leak: Node 24's V8 grows the heap lazily on a machine with
    // much memory (24 GiB here: RSS +80 MB in 90 s, where Node 20 stayed flat), while with this bound it stays flat
    // with no failure. A leak fills the bound and ends the process ("exited early") or keeps RSS rising.
    execArgv: ['--import', 'tsx', `--max-old-space-size=${SERVICE_HEAP_MB}`],
    env: { ...process.env, ...ecs.env(), SCALER_CONFIG: configFile, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let exitedEarly = false;
  let stopping = false;
  child.on('exit', () => {
    if (!stopping) exitedEarly = true;
  });
  let errorLines = 0;
  let secretLines = 0;
  const lastErrors: string[] = [];
  const triggerLines: string[] = [];
  // Triggers the service ended (`pipeline|digest`), from its log: scheduled, or reported not scheduled.
  const triggerEnds = new Set<string>();
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (
        line.includes(ARK_PREFIX) ||
        line.includes(FORWARDER_TOKEN) ||
        line.includes(GOCD_API_TOKEN) ||
        line.includes(REGISTRY_SECRET)
      )
        secretLines++;
      if (line.includes('"msg":"pipeline scheduled"') || line.includes('"msg":"pipeline not scheduled')) {
        const { pipeline, digest } = JSON.parse(line) as { pipeline?: string; digest?: string };
        triggerEnds.add(`${pipeline}|${digest}`);
        if (triggerLines.length < 5_000) triggerLines.push(line.slice(0, 600));
      }
      if (/"level":(5|6)\d/.test(line)) {
        errorLines++;
        if (lastErrors.length < 20) lastErrors.push(line.slice(0, 400));
      }
    }
  });
  child.stderr!.on('data', () => undefined);

  const cleanup = async () => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const exited = await Promise.race([
        new Promise<boolean>((resolve) => child.once('exit', () => resolve(true))),
        sleep(10_000).then(() => false),
      ]);
      if (!exited) child.kill('SIGKILL');
    }
    await ecs.stop();
    await gocd.close();
    trap.closeAllConnections();
    await new Promise<void>((resolve) => trap.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const readyBy = Date.now() + 60_000;
    for (;;) {
      if (exitedEarly) throw new Error('the service exited during start-up');
      try {
        if ((await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1_000) })).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > readyBy) throw new Error('the service did not answer /healthz within 60 s');
      await sleep(100);
    }
    log(`service up on ${base} (pid ${child.pid})`);
    return await drive();
  } finally {
    await cleanup();
  }

  async function drive(): Promise<SoakReport> {
    const byKind: Record<string, KindStats> = {};
    let inflight = 0;
    const MAX_INFLIGHT = 400;
    const gocdHeaders = { authorization: `Bearer ${FORWARDER_TOKEN}`, 'content-type': 'application/json' };

    /** One request; statuses outside `ok` count as errors (5xx separately). Bounded by a 60 s timeout. */
    async function call(kind: string, path: string, body: string, headers: Record<string, string>, ok: number[]) {
      const s = byKind[kind] ?? { sent: 0, errors: 0, status5xx: 0 };
      byKind[kind] = s;
      s.sent++;
      inflight++;
      try {
        const res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(60_000),
        });
        const text = await res.text();
        if (res.status >= 500) s.status5xx++;
        if (!ok.includes(res.status)) {
          s.errors++;
          return undefined;
        }
        return text;
      } catch {
        s.errors++;
        return undefined;
      } finally {
        inflight--;
      }
    }
    const gocdCall = (name: string, body: Json) =>
      call(name, `/gocd/requests/cd.go.elastic-agent.${name}`, JSON.stringify(body), gocdHeaders, [200]);

    // ── simulated GoCD ──
    const jobs = new Map<number, SimJob>();
    const agents = new Map<string, SimAgent>();
    const registered = new Set<string>();
    const taskJob = new Map<string, number>();
    let nextJobId = 1000;
    let shouldAssignChecked = 0;
    let shouldAssignWrong = 0;
    let pingBusy = false;
    const gocdAgents = () =>
      [...agents.values()].map(({ agent_id, agent_state, build_state, config_state }) => ({
        agent_id,
        agent_state,
        build_state,
        config_state,
      }));
    const applyActions = (text: string | undefined) => {
      if (!text) return;
      const reply = JSON.parse(text) as { agent_actions?: { disable?: string[]; delete?: string[] } };
      for (const id of reply.agent_actions?.disable ?? []) {
        const a = agents.get(id);
        if (a) a.config_state = 'Disabled';
      }
      for (const id of reply.agent_actions?.delete ?? []) agents.delete(id);
    };
    const createAgents = (job: SimJob, n: number) => {
      for (let i = 0; i < n; i++) {
        void gocdCall('create-agent', {
          auto_register_key: `${ARK_PREFIX}${randomUUID()}`,
          elastic_agent_profile_properties: PROFILE,
          cluster_profile_properties: CLUSTER,
          environment: 'soak',
          job_identifier: jobIdentifier(job),
        });
      }
    };
    const shouldAssign = async (agent: SimAgent, job: SimJob): Promise<boolean | undefined> => {
      const text = await gocdCall('should-assign-work', {
        agent: {
          agent_id: agent.agent_id,
          agent_state: agent.agent_state,
          build_state: agent.build_state,
          config_state: agent.config_state,
        },
        elastic_agent_profile_properties: PROFILE,
        cluster_profile_properties: CLUSTER,
        job_identifier: jobIdentifier(job),
      });
      if (text === undefined) return undefined;
      const answer = text.trim() === 'true';
      shouldAssignChecked++;
      if (answer !== (agent.jobId === job.id)) shouldAssignWrong++;
      return answer;
    };
    const assign = async (agent: SimAgent, job: SimJob) => {
      agent.busy = true;
      try {
        // GoCD asks about other waiting jobs too: those must be refused.
        const decoy = [...jobs.values()].find((j) => j.state === 'waiting' && j.id !== job.id);
        if (decoy) await shouldAssign(agent, decoy);
        if ((await shouldAssign(agent, job)) && job.state === 'waiting' && agents.has(agent.agent_id)) {
          job.state = 'assigned';
          job.completeAt = Date.now() + 1_000 + Math.floor(Math.random() * 3_000);
          agent.agent_state = 'Building';
          agent.build_state = 'Building';
        }
      } finally {
        agent.busy = false;
      }
    };
    const complete = async (job: SimJob) => {
      job.busy = true;
      const agent = [...agents.values()].find((a) => a.jobId === job.id);
      if (agent) {
        agent.agent_state = 'Idle';
        agent.build_state = 'Idle';
      }
      const text = await gocdCall('job-completion', {
        elastic_agent_id: agentIdFor('soak', job.id),
        cluster_profile_properties: CLUSTER,
        job_identifier: jobIdentifier(job),
        agents: gocdAgents(),
      });
      applyActions(text);
      job.state = 'done';
      job.busy = false;
    };
    const ping = async () => {
      pingBusy = true;
      try {
        applyActions(
          await gocdCall('server-ping', { all_cluster_profile_properties: [CLUSTER], agents: gocdAgents() }),
        );
      } finally {
        pingBusy = false;
      }
    };
    const observeTasks = () => {
      const now = Date.now();
      for (const task of ecs.tasks.values()) {
        if (!taskJob.has(task.taskArn)) {
          const id = taskJobId(task);
          if (id !== undefined) taskJob.set(task.taskArn, id);
        }
        const agentId = task.tags.find((t) => t.key === 'gocd-agent-scaler:agent-id')?.value;
        // A running task's agent registers itself with GoCD once (auto-register).
        if (agentId && task.lastStatus === 'RUNNING' && task.desiredStatus === 'RUNNING' && !registered.has(agentId)) {
          registered.add(agentId);
          agents.set(agentId, {
            agent_id: agentId,
            agent_state: 'Idle',
            build_state: 'Idle',
            config_state: 'Enabled',
            jobId: taskJob.get(task.taskArn) ?? -1,
            busy: false,
          });
        }
        // An agent whose task stopped stops pinging GoCD: LostContact (sooner than GoCD's 5 minutes, to keep it short).
        if (task.lastStatus === 'STOPPED' && task.stoppedAt !== undefined && now / 1000 - task.stoppedAt > 2) {
          const id = agentIdFor('soak', taskJob.get(task.taskArn) ?? Number.NaN);
          const a = agents.get(id);
          if (a && a.agent_state !== 'LostContact' && !ecsLiveFor(id)) a.agent_state = 'LostContact';
        }
      }
    };
    const liveByAgent = new Set<string>();
    const ecsLiveFor = (agentId: string) => liveByAgent.has(agentId);
    const refreshLive = () => {
      liveByAgent.clear();
      for (const task of ecs.tasks.values()) {
        const id = task.tags.find((t) => t.key === 'gocd-agent-scaler:agent-id')?.value;
        if (id && task.desiredStatus === 'RUNNING') liveByAgent.add(id);
      }
    };

    // ── simulated registry ──
    const pushes: Push[] = [];
    let pushCount = 0;
    let redeliveries = 0;
    let repushes = 0;
    const registryHeaders = {
      authorization: `Bearer ${REGISTRY_SECRET}`,
      'content-type': 'application/vnd.docker.distribution.events.v1+json',
    };
    const envelope = (push: Pick<Push, 'repository' | 'tag' | 'digest'>, withBlob: boolean) => {
      const event = (target: Json) => ({
        id: randomUUID(),
        timestamp: new Date().toISOString(),
        action: 'push',
        target,
        request: { id: randomUUID(), addr: trapHost, host: trapHost, method: 'PUT', useragent: 'soak' },
        actor: {},
        source: { addr: trapHost, instanceID: 'soak' },
      });
      const events = [
        event({
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          size: 427,
          digest: push.digest,
          length: 427,
          repository: push.repository,
          url: `http://${trapHost}/v2/${push.repository}/manifests/${push.digest}`,
          tag: push.tag,
        }),
      ];
      if (withBlob) {
        const blob = `sha256:${randomBytes(32).toString('hex')}`;
        events.push(
          event({
            mediaType: 'application/octet-stream',
            size: 100,
            digest: blob,
            length: 100,
            repository: push.repository,
            url: `http://${trapHost}/v2/${push.repository}/blobs/${blob}`,
          }),
        );
      }
      return JSON.stringify({ events });
    };
    // Triggers the service claimed (`pipeline|digest` → when its answer said so): the drain waits for their end.
    const claimed = new Map<string, number>();
    const deliver = async (body: string) => {
      const text = await call('registry-push', '/registry/soak', body, registryHeaders, [200, 202]);
      const answer = text
        ? (JSON.parse(text) as { pipelines?: { pipeline: string; digest?: string; outcome: string }[] })
        : {};
      for (const p of answer.pipelines ?? []) {
        if (p.outcome === 'triggered') claimed.set(`${p.pipeline}|${p.digest}`, Date.now());
      }
    };
    /** Claimed triggers not ended yet, and when the last of them must have ended. */
    const openTriggers = () => {
      const open = [...claimed].filter(([key]) => !triggerEnds.has(key));
      return { count: open.length, endBy: Math.max(0, ...open.map(([, at]) => at + TRIGGER_END_BOUND_MS)) };
    };
    const newPush = () => {
      const n = pushCount++;
      // Every 7th push re-pushes an earlier (image, tag, digest) under a new event id: nothing new to schedule.
      const earlier = n % 7 === 6 && pushes.length > 0 ? pushes[Math.floor(Math.random() * pushes.length)] : undefined;
      let body: string;
      if (earlier) {
        repushes++;
        body = envelope(earlier, false);
      } else {
        const repository = `soak/svc-${n % 4}`;
        const tag = n % 5 === 4 ? 'latest' : `1.${Math.floor(n / 4)}.${n % 3}`;
        const push = { repository, tag, digest: `sha256:${randomBytes(32).toString('hex')}`, body: '', at: Date.now() };
        push.body = envelope(push, n % 3 === 0);
        pushes.push(push);
        body = push.body;
      }
      // The registry redelivers: 0–2 extra copies of the same delivery, one at once and one a few seconds later.
      const extra = n % 3;
      void deliver(body);
      if (extra >= 1) {
        redeliveries++;
        void deliver(body);
      }
      if (extra >= 2) {
        redeliveries++;
        const at = Date.now() + 2_000 + Math.floor(Math.random() * 3_000);
        delayed.push({ at, body });
      }
    };
    const delayed: { at: number; body: string }[] = [];

    // ── fault schedule (fractions of the traffic phase) ──
    const durationMs = options.durationMs;
    const burstMs = Math.min(10_000, Math.max(2_000, durationMs * 0.08));
    const bursts = [0.2, 0.5, 0.8].map((f) => ({ from: f * durationMs, to: f * durationMs + burstMs }));
    const gocdFaults = [0.1, 0.3, 0.45, 0.7].map((f) => f * durationMs);
    const runTaskFaults = [0.35, 0.65].map((f) => f * durationMs);
    let gocdFaultIdx = 0;
    let runTaskFaultIdx = 0;
    let runTaskFailures = 0;
    const applyFaults = (elapsed: number) => {
      ecs.throttleRate = bursts.some((b) => elapsed >= b.from && elapsed < b.to) ? 0.6 : 0;
      while (gocdFaultIdx < gocdFaults.length && elapsed >= gocdFaults[gocdFaultIdx]!) {
        gocdFaultIdx++;
        gocd.script('soak-flaky', { status: 503 }, { status: 503 }, { status: 503 });
        gocd.script('soak-all', { status: 503 }, { status: 409 });
        log(`fault: GoCD answers 503/409 (t=${(elapsed / 1000).toFixed(0)} s)`);
      }
      while (runTaskFaultIdx < runTaskFaults.length && elapsed >= runTaskFaults[runTaskFaultIdx]!) {
        runTaskFaultIdx++;
        ecs.failNextRunTask({ reason: 'RESOURCE:MEMORY' }, { reason: 'AGENT' });
        runTaskFailures += 2;
        log(`fault: next two RunTask calls place nothing (t=${(elapsed / 1000).toFixed(0)} s)`);
      }
    };

    // ── RSS sampling ──
    const rss: { at: number; mb: number }[] = [];
    const sampler = setInterval(() => {
      const mb = rssMb(child.pid!);
      if (mb !== undefined) rss.push({ at: Date.now(), mb });
    }, sampleEveryMs);

    // ── background should-assign-work load (autocannon, fixed rate) ──
    const saBody = (jobId: number) =>
      JSON.stringify({
        agent: {
          agent_id: agentIdFor('soak', 1),
          agent_state: 'Idle',
          build_state: 'Idle',
          config_state: 'Enabled',
        },
        elastic_agent_profile_properties: PROFILE,
        cluster_profile_properties: CLUSTER,
        job_identifier: { ...jobIdentifier({ id: jobId, counter: 1 } as SimJob) },
      });
    const backgroundOptions = {
      url: `${base}/gocd/requests/cd.go.elastic-agent.should-assign-work`,
      method: 'POST',
      connections: 4,
      overallRate: shouldAssignRate,
      duration: Math.max(1, Math.round(durationMs / 1000)),
      headers: gocdHeaders,
      requests: [{ body: saBody(1) }, { body: saBody(2) }],
    };
    const background = shouldAssignRate > 0 ? autocannon(backgroundOptions) : undefined;

    // ── the loop: one tick every 100 ms, through the traffic phase and the drain (bounds below) ──
    const started = Date.now();
    let nextPingAt = started + 3_000;
    let jobAcc = 0;
    let pushAcc = 0;
    let lastProgress = started;
    // Jobs get `drainMs` after the traffic; triggers the service claimed get until the service ended them (bounded by
    // its retry window, TRIGGER_END_BOUND_MS). Not the drain: GoCD's 503/409 faults are retried with full-jitter
    // backoff (1 s doubling to 30 s), and a trigger that drew a streak of them (7 × 503 seen) was still being retried,
    // as designed, when a wall-clock drain ended and counted it lost.
    const jobsDeadline = started + durationMs + drainMs;
    let loopEndReason = 'drain over with no trigger in flight';
    let gocdWell = false;
    for (let tick = 0; ; tick++) {
      const now = Date.now();
      const elapsed = now - started;
      const traffic = elapsed < durationMs;
      if (traffic) {
        applyFaults(elapsed);
        jobAcc += jobsPerSecond / 10;
        pushAcc += pushesPerSecond / 10;
        while (jobAcc >= 1 && inflight < MAX_INFLIGHT) {
          jobAcc--;
          const id = nextJobId++;
          const job: SimJob = { id, counter: id - 999, state: 'waiting', nextResendAt: now + 3_000, busy: false };
          jobs.set(id, job);
          createAgents(job, 3); // GoCD and the forwarder may send several at once
        }
        while (pushAcc >= 1 && inflight < MAX_INFLIGHT) {
          pushAcc--;
          newPush();
        }
      } else {
        ecs.throttleRate = 0;
        if (!gocdWell) {
          // GoCD is busy during the traffic only: answers scripted by a fault and not yet given (they wait for the next
          // call of their pipeline, which for soak-flaky may come seconds later) are dropped, so no trigger draws
          // 503s long after the faults (12 piled-up 503s could exhaust the service's retry window).
          gocdWell = true;
          gocd.clearScripts();
        }
      }
      for (let i = delayed.length - 1; i >= 0; i--) {
        if (delayed[i]!.at <= now) {
          void deliver(delayed[i]!.body);
          delayed.splice(i, 1);
        }
      }
      ecs.advanceTasks();
      refreshLive();
      observeTasks();
      for (const agent of agents.values()) {
        if (agent.busy || agent.agent_state !== 'Idle' || agent.config_state !== 'Enabled') continue;
        const job = jobs.get(agent.jobId);
        if (job?.state === 'waiting') void assign(agent, job);
      }
      for (const job of jobs.values()) {
        if (job.state === 'assigned' && !job.busy && (job.completeAt ?? 0) <= now) void complete(job);
        if (job.state === 'waiting' && job.nextResendAt <= now && inflight < MAX_INFLIGHT) {
          job.nextResendAt = now + 3_000;
          createAgents(job, 2);
        }
      }
      if (now >= nextPingAt && !pingBusy) {
        nextPingAt = now + 3_000;
        void ping();
      }
      if (now - lastProgress >= 30_000) {
        lastProgress = now;
        log(
          `t=${(elapsed / 1000).toFixed(0)} s: jobs ${jobs.size}, agents ${agents.size}, pushes ${pushCount}, GoCD calls ${gocd.calls.length}, in flight ${inflight}, RSS ${rss.at(-1)?.mb.toFixed(0) ?? '?'} MB`,
        );
      }
      if (!traffic) {
        const jobsDone = [...jobs.values()].every((j) => j.state === 'done');
        const open = openTriggers();
        const triggersDone = countTriggers().lost === 0 && open.count === 0;
        if (jobsDone && triggersDone && delayed.length === 0 && inflight === 0) {
          loopEndReason = 'every job finished and every trigger ended';
          break;
        }
        // Past the jobs' drain, only a claimed trigger the service has not ended yet is worth waiting for.
        if (now >= jobsDeadline && delayed.length === 0 && (open.count === 0 || now >= open.endBy)) {
          if (open.count > 0)
            loopEndReason = `${open.count} claimed triggers not ended within the service's retry window`;
          break;
        }
      }
      await sleep(Math.max(0, started + (tick + 1) * 100 - Date.now()));
    }
    const loopEnd = Date.now();
    {
      let slowest = 0;
      let slowestCalls = '';
      for (const p of pushes) {
        for (const pipeline of pipelinesFor(p.repository, p.tag)) {
          const calls = gocd.calls.filter((c) => c.pipeline === pipeline && Object.values(c.env).includes(p.digest));
          const ok = calls.find((c) => c.status === 202);
          const took = ok ? ok.at - p.at : Number.POSITIVE_INFINITY;
          if (took > slowest) {
            slowest = took;
            slowestCalls = `${pipeline} pushed ${((p.at - started) / 1000).toFixed(1)}: ${calls.map((c) => `${c.status}@${((c.at - started) / 1000).toFixed(1)}`).join(' ')}`;
          }
        }
      }
      log(
        `drain ended at ${((loopEnd - started) / 1000).toFixed(1)} s (${loopEndReason}); slowest trigger ${(slowest / 1000).toFixed(1)} s from push to 202 (${slowestCalls})`,
      );
    }
    // Final sweep, as GoCD's next pings would do it: disabled agents get stopped and deleted.
    for (let i = 0; i < 3; i++) {
      refreshLive();
      observeTasks();
      await ping();
      await sleep(300);
    }
    const backgroundResult = background ? await background : undefined;
    clearInterval(sampler);
    const last = rssMb(child.pid!);
    if (last !== undefined) rss.push({ at: Date.now(), mb: last });

    function countTriggers() {
      const scheduled = new Map<string, number>();
      for (const c of gocd.calls) {
        if (c.status !== 202) continue;
        const pick = (suffix: string) => Object.entries(c.env).find(([k]) => k.endsWith(suffix))?.[1] ?? '';
        const key = `${c.pipeline}|${pick('_DOCKER_IMAGE')}|${pick('_LABEL')}|${pick('_DIGEST')}`;
        scheduled.set(key, (scheduled.get(key) ?? 0) + 1);
      }
      let expected = 0;
      let lost = 0;
      let duplicated = 0;
      const seen = new Set<string>();
      for (const p of pushes) {
        for (const pipeline of pipelinesFor(p.repository, p.tag)) {
          const key = `${pipeline}|${p.repository}|${p.tag}|${p.digest}`;
          if (seen.has(key)) continue;
          seen.add(key);
          expected++;
          const n = scheduled.get(key) ?? 0;
          if (n === 0) lost++;
          if (n > 1) duplicated += n - 1;
        }
      }
      const unexpected = [...scheduled.keys()].filter((k) => !seen.has(k)).length;
      let total = 0;
      for (const n of scheduled.values()) total += n;
      return { expected, lost, duplicated: duplicated + unexpected, scheduled: total };
    }

    // ── invariants ──
    const triggers = countTriggers();
    const tasksPerJob = new Map<number, number>();
    for (const task of ecs.tasks.values()) {
      const id = taskJob.get(task.taskArn) ?? taskJobId(task);
      if (id !== undefined) tasksPerJob.set(id, (tasksPerJob.get(id) ?? 0) + 1);
    }
    const leaked = ecs.liveTasks('soak').length;
    const completed = [...jobs.values()].filter((j) => j.state === 'done').length;
    const requests = Object.values(byKind).reduce((n, s) => n + s.sent, 0);
    const errors = Object.values(byKind).reduce((n, s) => n + s.errors, 0);
    const status5xx = Object.values(byKind).reduce((n, s) => n + s.status5xx, 0);
    const mbs = rss.map((r) => r.mb);
    const warm = rss.find((r) => r.at - started >= durationMs * 0.25) ?? rss[0];
    const report: SoakReport = {
      durationS: (Date.now() - started) / 1000,
      requests: requests + (backgroundResult?.requests.total ?? 0),
      errors: errors + (backgroundResult?.errors ?? 0) + (backgroundResult?.non2xx ?? 0),
      status5xx,
      byKind,
      background: {
        requests: backgroundResult?.requests.total ?? 0,
        non2xx: backgroundResult?.non2xx ?? 0,
        errors: backgroundResult?.errors ?? 0,
      },
      jobs: { created: jobs.size, completed, unfinished: jobs.size - completed },
      tasks: {
        total: ecs.tasks.size,
        maxPerJob: Math.max(0, ...tasksPerJob.values()),
        jobsWithSeveral: [...tasksPerJob.values()].filter((n) => n > 1).length,
        leaked,
      },
      triggers: { pushes: pushes.length, ...triggers },
      shouldAssign: { checked: shouldAssignChecked, wrong: shouldAssignWrong },
      faults: {
        ecsThrottled: ecs.throttled,
        runTaskFailures,
        gocdErrorAnswers: gocd.calls.filter((c) => c.status !== 202).length,
        redeliveries,
        repushes,
      },
      payloadHostCalls,
      service: { errorLines, secretLines, exitedEarly },
      rss: {
        firstMb: mbs[0] ?? 0,
        warmMb: warm?.mb ?? 0,
        lastMb: mbs.at(-1) ?? 0,
        maxMb: Math.max(0, ...mbs),
        samples: mbs.length,
        boundMb: RSS_GROWTH_BOUND_MB,
      },
      violations: [],
    };
    const v = report.violations;
    if (exitedEarly) v.push('the service process exited during the run');
    if (status5xx > 0) v.push(`${status5xx} answers were 5xx`);
    if (errors > 0) v.push(`${errors} requests failed or got an unexpected status`);
    if (report.background.non2xx + report.background.errors > 0)
      v.push(`background should-assign-work: ${report.background.non2xx} non-2xx, ${report.background.errors} errors`);
    if (triggers.lost > 0) {
      v.push(`${triggers.lost} of ${triggers.expected} triggers never scheduled`);
      // Which (image, tag, digest) and pipeline, whether the service claimed it, GoCD's answers, and how the service
      // ended it (its log line), for each lost trigger.
      const at = (ms: number) => `${((ms - started) / 1000).toFixed(1)} s`;
      for (const p of pushes) {
        for (const pipeline of pipelinesFor(p.repository, p.tag)) {
          const calls = gocd.calls.filter((c) => c.pipeline === pipeline && Object.values(c.env).includes(p.digest));
          if (calls.some((c) => c.status === 202)) continue;
          const claimedAt = claimed.get(`${pipeline}|${p.digest}`);
          log(
            `lost: ${pipeline} for ${p.repository}:${p.tag}@${p.digest}, pushed at ${at(p.at)}, ${claimedAt ? `claimed (answer at ${at(claimedAt)})` : 'never answered triggered'}; GoCD answers: ${calls.map((c) => `${c.status} at ${at(c.at)}`).join(', ') || 'none'}`,
          );
          for (const line of triggerLines.filter((x) => x.includes(p.digest) && x.includes(`"${pipeline}"`)))
            log(`lost: service: ${line}`);
        }
      }
    }
    if (triggers.duplicated > 0) v.push(`${triggers.duplicated} duplicate or unexpected schedules`);
    if (report.tasks.maxPerJob > 1) v.push(`${report.tasks.jobsWithSeveral} jobs got more than one task`);
    if (leaked > 0) v.push(`${leaked} tasks still live after the final sweep`);
    if (report.jobs.unfinished > 0) v.push(`${report.jobs.unfinished} jobs never finished`);
    if (shouldAssignWrong > 0) v.push(`${shouldAssignWrong} wrong should-assign-work answers`);
    if (payloadHostCalls > 0) v.push(`${payloadHostCalls} calls to a host named in a payload`);
    if (secretLines > 0) v.push(`${secretLines} service log lines hold a secret`);
    if (report.rss.lastMb - report.rss.warmMb > RSS_GROWTH_BOUND_MB)
      v.push(`RSS grew ${(report.rss.lastMb - report.rss.warmMb).toFixed(0)} MB after warm-up`);
    if (v.length > 0 && lastErrors.length > 0)
      log(`service error lines (first ${lastErrors.length}):\n${lastErrors.join('\n')}`);
    return report;
  }
}
