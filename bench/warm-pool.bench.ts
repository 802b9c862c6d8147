import { pino } from 'pino';
import { agentIdFor } from '../src/agents/agent-id.js';
import { parsePoolAgentId, profileHash } from '../src/agents/warm-pool-id.js';
import { parseConfig } from '../src/config/config-text.js';
import { buildApp } from '../src/http/app.js';
import { createServices } from '../src/main/composition.js';
import { VERSION } from '../src/version.js';
import { FakeEcs } from '../test/support/fake-ecs/fake-ecs-server.js';
import { job } from '../test/support/gocd-bodies.js';
import { gocdPoster } from '../test/support/gocd-inject.js';
import { SimulatedGocd, type SimulatedJob } from '../test/support/simulated-gocd.js';
import type { BenchResult } from './bench-types.js';

const TOKEN = 'warm-pool-forwarder-token-0123456789';
const INSTANCE = '5f3a9c01';
/** Task start (RunTask) to the agent registered with GoCD: pull, start, register (issue 21: 30 s). */
const REGISTER_MS = 30_000;
/** How often an idle registered agent asks GoCD for work (its agent loop). */
const POLL_MS = 1_000;
/** How long each job runs once assigned. */
const JOB_MS = 60_000;
const TICK_MS = 100;
const PING_MS = 60_000;
/** GoCD re-sends create-agent for a job still waiting (about every 2 minutes). */
const RESEND_MS = 120_000;
const JOBS = 20;

interface Scenario {
  poolSize: number;
  spacingMs: number;
}

interface Outcome {
  waitsMs: number[];
  launched: number;
  idleAgentMinutes: number;
  wrong: number;
  reused: number;
  simulatedS: number;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

/**
 * One scenario on a virtual clock: the loopback ECS endpoint and the whole service (HTTP app, process composition,
 * ECS backend over the real SDK) read the simulated time, so minutes of GoCD traffic run in seconds. A warm-up job
 * first (its create-agent is what tells the service the profile is pooled), then 20 jobs `spacingMs` apart;
 * the clock runs until every job ran and completed.
 */
async function simulate({ poolSize, spacingMs }: Scenario): Promise<Outcome> {
  let t = Date.parse('2026-12-07T09:00:00Z');
  const fake = await new FakeEcs({ now: () => t, clusters: ['warm'] }).start();
  const restoreEnv = fake.useAsEnvironment();
  const cluster = {
    go_server_url: 'https://gocd.example.com/go',
    cluster_id: 'warm',
    cluster: 'warm',
    max_agents: '50',
  };
  const profile = { image: 'gocd/gocd-agent-debian-12:v25.1.0', warm_pool_size: String(poolSize) };
  const { config } = parseConfig(`gocd: { forwarderToken: ${TOKEN} }\n`, 'bench', { env: {} });
  const logger = pino({ level: 'silent' });
  const services = await createServices(config, logger, { withDocker: false, now: () => new Date(t) });
  const app = await buildApp({ config, logger, version: VERSION, ...services });
  const gocd = new SimulatedGocd(INSTANCE);
  const send = gocdPoster(() => app, TOKEN);
  const post = async (name: string, body: unknown) => {
    const res = await send(name, body);
    if (res.statusCode !== 200) throw new Error(`${name}: ${res.statusCode} ${res.body}`);
    return res.json() as { agent_actions?: { disable: string[]; delete: string[] } };
  };
  const plan = (id: number): SimulatedJob => ({ job: job(id), clusterProperties: cluster, profileProperties: profile });
  const createAgent = (id: number) =>
    post('create-agent', {
      auto_register_key: 'ark',
      elastic_agent_profile_properties: profile,
      cluster_profile_properties: cluster,
      job_identifier: job(id),
    });
  const ping = async () => {
    const r = await post('server-ping', {
      all_cluster_profile_properties: [cluster],
      agents: gocd.list(),
      forwarder_instance: INSTANCE,
    });
    if (r.agent_actions) gocd.apply(r.agent_actions);
  };
  const registeredAt = new Map<string, number>();
  const arrivals = new Map<number, number>();
  const lastAsk = new Map<number, number>();
  const assignedAt = new Map<number, number>();
  const completed = new Set<number>();
  const hash = profileHash('warm', undefined, profile);
  let idleMs = 0;
  let wrong = 0;
  try {
    await ping();
    const warmUp = 1;
    const start = t + 90_000;
    const jobIds = Array.from({ length: JOBS }, (_, i) => 100 + i);
    const due = new Map<number, number>([[warmUp, t], ...jobIds.map((id, i) => [id, start + i * spacingMs] as const)]);
    let nextPing = t + PING_MS;
    for (let tick = 0; completed.size < due.size; tick++) {
      if (tick > 100_000) throw new Error('the simulation did not finish');
      // Tasks move on (PROVISIONING → PENDING → RUNNING); the agent inside registers REGISTER_MS after its start.
      fake.advanceTasks();
      for (const task of fake.liveTasks('warm')) {
        const id = task.tags.find((x) => x.key === 'gocd-agent-scaler:agent-id')?.value;
        if (!id || registeredAt.has(id) || t - task.createdAt * 1000 < REGISTER_MS) continue;
        gocd.register(id);
        registeredAt.set(id, t);
      }
      for (const [id, at] of due) {
        if (at === t || (at < t && !assignedAt.has(id) && t - (lastAsk.get(id) ?? at) >= RESEND_MS)) {
          if (at === t) {
            arrivals.set(id, t);
            gocd.schedule(plan(id));
          }
          lastAsk.set(id, t);
          await createAgent(id);
        }
      }
      // Each idle agent asks for work on its own loop (staggered); GoCD hands out one job per question.
      let k = 0;
      for (const [agentId, since] of registeredAt) {
        k++;
        const a = gocd.agents.get(agentId);
        if (!a) continue;
        if (a.state === 'Idle' && a.config === 'Enabled') idleMs += TICK_MS;
        if ((t - since + k * 137) % POLL_MS >= TICK_MS) continue;
        const jobId = gocd.askForWork(agentId);
        if (jobId === undefined) continue;
        assignedAt.set(jobId, t);
        const pool = parsePoolAgentId(agentId);
        const right = pool ? pool.profileHash === hash : agentId === agentIdFor('warm', jobId);
        if (!right) wrong++;
      }
      for (const [id, at] of assignedAt) {
        if (completed.has(id) || t - at < JOB_MS) continue;
        completed.add(id);
        const agentId = gocd.finish(id)!;
        const r = await post('job-completion', {
          elastic_agent_id: agentId,
          cluster_profile_properties: cluster,
          job_identifier: job(id),
          agents: gocd.list(),
        });
        if (r.agent_actions) gocd.apply(r.agent_actions);
      }
      if (t >= nextPing) {
        await ping();
        nextPing += PING_MS;
      }
      t += TICK_MS;
    }
    const waitsMs = jobIds.map((id) => assignedAt.get(id)! - arrivals.get(id)!).sort((a, b) => a - b);
    return {
      waitsMs,
      // Every task the measured jobs caused: those started after the warm-up job's own launch and pool fill.
      launched: [...fake.tasks.values()].filter((x) => x.createdAt * 1000 >= start).length,
      idleAgentMinutes: idleMs / 60_000,
      wrong,
      reused: gocd.reused().length,
      simulatedS: (t - Date.parse('2026-12-07T09:00:00Z')) / 1000,
    };
  } finally {
    await app.close();
    await fake.stop();
    restoreEnv();
  }
}

/**
 * Warm pools (issue 21): job wait from create-agent to assignment with and without a pool, on a virtual clock
 * (registration 30 s after the task starts, agents asking for work every second, jobs running 60 s). Pool 5 takes
 * jobs at most one per 6 s in steady state (5 agents per 30 s boot): arrivals 3 s apart outrun it, 6 s apart do not;
 * a pool of 10 keeps up with 3 s. Target: p50 ≤ 1 s where arrivals stay within the refill rate; no job on a wrong or
 * reused agent anywhere.
 */
export async function run(): Promise<BenchResult[]> {
  const scenarios: (Scenario & { withinRefill: boolean })[] = [
    { poolSize: 0, spacingMs: 3_000, withinRefill: false },
    { poolSize: 5, spacingMs: 3_000, withinRefill: false },
    { poolSize: 5, spacingMs: 6_000, withinRefill: true },
    { poolSize: 10, spacingMs: 3_000, withinRefill: true },
  ];
  const rows: BenchResult[] = [];
  for (const s of scenarios) {
    const o = await simulate(s);
    const bench = `warm-pool size ${s.poolSize}, ${JOBS} jobs ${s.spacingMs / 1000} s apart`;
    const p50 = quantile(o.waitsMs, 0.5) / 1000;
    const p95 = quantile(o.waitsMs, 0.95) / 1000;
    console.log(
      `  ${bench}: wait p50 ${p50.toFixed(1)} s, p95 ${p95.toFixed(1)} s; ${o.launched} launched; ${o.idleAgentMinutes.toFixed(1)} idle agent-min; wrong ${o.wrong}, reused ${o.reused}; ${o.simulatedS} s simulated`,
    );
    const notes = `virtual clock: ${o.simulatedS} s of simulated time`;
    rows.push(
      {
        bench,
        metric: 'job wait p50 (create-agent to assigned)',
        value: p50,
        unit: 's',
        ...(s.poolSize > 0 && s.withinRefill ? { target: '≤ 1', pass: p50 <= 1 } : {}),
        notes,
      },
      { bench, metric: 'job wait p95', value: p95, unit: 's' },
      { bench, metric: 'agents launched for the 20 jobs (pool refills included)', value: o.launched, unit: 'agents' },
      {
        bench,
        metric: 'idle agent-minutes (registered, waiting for a job) until the last job completed',
        value: Number(o.idleAgentMinutes.toFixed(2)),
        unit: 'agent-min',
      },
      {
        bench,
        metric: 'jobs on a wrong or reused agent',
        value: o.wrong + o.reused,
        unit: 'jobs',
        target: '0',
        pass: o.wrong + o.reused === 0,
      },
    );
  }
  return rows;
}
