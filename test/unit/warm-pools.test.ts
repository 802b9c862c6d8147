import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ActivityLog } from '../../src/agents/activity-log.js';
import type { AgentServiceDeps } from '../../src/agents/agent-service.js';
import { parsePoolAgentId } from '../../src/agents/warm-pool-id.js';
import { sameImage } from '../../src/agents/warm-pools.js';
import { renderClusterSection } from '../../src/gocd/status-report.view.js';
import { job } from '../support/gocd-bodies.js';
import { MemoryBackend } from '../support/memory-backend.js';
import { edgeService, validateElasticProperties } from '../support/profiles.js';
import { SimulatedGocd, type SimulatedJob } from '../support/simulated-gocd.js';

const CLUSTER = { go_server_url: 'https://gocd.example.com/go', cluster_id: 'pool', max_agents: '10' };
const PROFILE = { image: 'gocd/gocd-agent-debian-12:v25.1.0', warm_pool_size: '2' };
const INSTANCE = '5f3a9c01';
const MINUTE = 60_000;

function setup(options: { cluster?: Record<string, string>; deps?: Partial<AgentServiceDeps> } = {}) {
  let nowMs = Date.UTC(2026, 11, 7, 9, 0, 0);
  const now = () => new Date(nowMs);
  const backend = new MemoryBackend(now);
  const activity = new ActivityLog(500, now);
  const service = edgeService(backend, { now, activity, logger: pino({ level: 'silent' }), ...options.deps });
  const gocd = new SimulatedGocd(INSTANCE);
  const cluster = options.cluster ?? CLUSTER;
  const plan = (jobId: number, profile: Record<string, string> = PROFILE): SimulatedJob => ({
    job: job(jobId),
    clusterProperties: cluster,
    profileProperties: profile,
  });
  const create = (jobId: number, profile: Record<string, string> = PROFILE) =>
    service.createAgent({
      autoRegisterKey: 'auto-register-key',
      job: job(jobId),
      clusterProperties: cluster,
      profileProperties: profile,
    });
  const ping = async () => {
    const actions = await service.serverPing([cluster], gocd.list(), undefined, gocd.instance);
    gocd.apply(actions);
    return actions;
  };
  const complete = async (jobId: number) => {
    const agentId = gocd.finish(jobId)!;
    const actions = await service.jobCompleted({
      elasticAgentId: agentId,
      job: job(jobId),
      clusterProperties: cluster,
      agents: gocd.list(),
    });
    gocd.apply(actions);
    return { agentId, actions };
  };
  const live = () => backend.agents.filter((a) => a.status !== 'stopped');
  const livePool = () => live().filter((a) => a.pool !== undefined);
  const registerAll = () => {
    for (const a of live()) gocd.register(a.agentId);
  };
  return {
    cluster,
    backend,
    activity,
    service,
    gocd,
    plan,
    create,
    ping,
    complete,
    live,
    livePool,
    registerAll,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

/** A pool of two filled by a first job (a miss: it launches its own agent, then the pool fills behind it). */
async function withFullPool(options: Parameters<typeof setup>[0] = {}) {
  const t = setup(options);
  await t.ping();
  expect((await t.create(1)).kind).toBe('launched');
  expect(t.livePool()).toHaveLength(2);
  t.registerAll();
  return t;
}

describe('warm pools: create-agent', () => {
  it('a job of a pooled profile whose pool has a waiting agent launches nothing for itself; the pool refills behind it', async () => {
    const t = await withFullPool();
    const launchesBefore = t.backend.launches.length;
    const result = await t.create(2);
    expect(result.kind).toBe('warm');
    const held = result.kind === 'warm' ? result.agent.agentId : '';
    expect(parsePoolAgentId(held)?.instance).toBe(INSTANCE);
    // Exactly one launch since: the refill (a pool agent), none for job 2.
    const since = t.backend.launches.slice(launchesBefore);
    expect(since).toHaveLength(1);
    expect(since[0]?.job).toBeUndefined();
    expect(since[0]?.pool).toBeDefined();
    expect(t.backend.agents.filter((a) => a.jobId === 2)).toHaveLength(0);
    // The job takes its warm agent in the next assignment round.
    t.gocd.schedule(t.plan(2));
    expect(t.gocd.assignmentRound()).toEqual([{ agentId: expect.stringMatching(/^ea-pool-/), jobId: 2 }]);
  });

  it('GoCD re-sending create-agent for a job that holds a pool agent holds the same one and launches nothing', async () => {
    const t = await withFullPool();
    const first = await t.create(2);
    const launches = t.backend.launches.length;
    const again = await Promise.all([t.create(2), t.create(2), t.create(2)]);
    expect(again.map((r) => r.kind)).toEqual(['warm', 'warm', 'warm']);
    for (const r of again)
      expect(r.kind === 'warm' && r.agent.agentId).toBe(first.kind === 'warm' && first.agent.agentId);
    expect(t.backend.launches.length).toBe(launches);
  });

  it('no two jobs hold one pool agent; once every pool agent is held, the next job waits like any job', async () => {
    const t = await withFullPool({ cluster: { ...CLUSTER, max_agents: '4' } });
    // Pool of 2 + job 1's agent = 3 of 4. Jobs 2 and 3 arrive together; the refill takes the last slot.
    const results = await Promise.all([t.create(2), t.create(3)]);
    results.push(await t.create(4));
    const held = results.map((r) => (r.kind === 'warm' ? r.agent.agentId : r.kind));
    expect(held.every((h) => h.startsWith('ea-pool-'))).toBe(true);
    expect(new Set(held).size).toBe(3);
    expect(t.live()).toHaveLength(4);
    expect((await t.create(5)).kind).toBe('waiting');
  });

  it('a create-agent of another elastic profile never takes a pool agent (its profile hashes differently)', async () => {
    const t = await withFullPool();
    const other = { ...PROFILE, memory: '4096', warm_pool_size: '0' };
    const result = await t.create(5, other);
    expect(result.kind).toBe('launched');
    t.gocd.schedule(t.plan(5, other));
    t.registerAll();
    const made = t.gocd.assignmentRound();
    expect(made).toEqual([{ agentId: expect.stringMatching(/^ea-5-/), jobId: 5 }]);
  });

  it('a create-agent launches at most two pool agents before it answers; server-ping fills the rest of the pool', async () => {
    const t = setup();
    await t.ping();
    await t.create(1, { ...PROFILE, warm_pool_size: '5' });
    expect(t.livePool()).toHaveLength(2);
    await t.ping();
    expect(t.livePool()).toHaveLength(5);
  });

  it('policy.warmPool.maxPerProfile cuts warm_pool_size', async () => {
    const t = setup({
      deps: {
        policy: {
          docker: { engines: ['local'] },
          ecs: {},
          allow: { privileged: false, socketMount: false, hostNetwork: false, capabilities: [] },
          warmPool: { maxPerProfile: 1, maxPerCluster: 20 },
        },
      },
    });
    await t.ping();
    await t.create(1, { ...PROFILE, warm_pool_size: '5' });
    expect(t.livePool()).toHaveLength(1);
  });

  it('pool agents count against max_agents, and a refill never takes the slot of a job waiting for one', async () => {
    const t = setup({ cluster: { ...CLUSTER, max_agents: '3' } });
    await t.ping();
    await t.create(1, { ...PROFILE, warm_pool_size: '5' });
    expect(t.live()).toHaveLength(3);
    expect(t.livePool()).toHaveLength(2);
    // Jobs of another profile wait on max_agents; the next refill leaves their slots alone.
    const other = { ...PROFILE, memory: '4096', warm_pool_size: '0' };
    expect((await t.create(2, other)).kind).toBe('waiting');
    const own = t.backend.agents.find((a) => a.jobId === 1)!;
    await t.service.jobCompleted({ elasticAgentId: own.agentId, job: job(1), clusterProperties: t.cluster });
    await t.ping();
    expect(t.livePool()).toHaveLength(2);
    expect((await t.create(2, other)).kind).toBe('launched');
  });

  it('a job waiting on max_agents takes the slot of a waiting agent of another pool: recycled at the next pings, then it launches', async () => {
    const t = setup({ cluster: { ...CLUSTER, max_agents: '3' } });
    await t.ping();
    await t.create(1); // its own agent + a pool of 2 = 3
    t.registerAll();
    const other = { ...PROFILE, memory: '4096', warm_pool_size: '0' };
    const waiting = await t.create(2, other);
    expect(waiting.kind).toBe('waiting');
    expect(waiting.kind === 'waiting' && waiting.reason).toMatch(/warm-pool agent ea-pool-\S+ is being recycled/);
    // GoCD re-sends: the same agent is being recycled, no second one.
    const again = await t.create(2, other);
    expect(again.kind === 'waiting' && again.reason).toBe(waiting.kind === 'waiting' && waiting.reason);
    const victim = /(ea-pool-\S+)/.exec(waiting.kind === 'waiting' ? waiting.reason : '')![1]!;
    expect((await t.ping()).disable).toContain(victim);
    await t.ping(); // disabled → stopped; the pool does not refill into the waiting job's slot
    expect(t.backend.agents.find((a) => a.agentId === victim)?.status).toBe('stopped');
    expect(t.livePool()).toHaveLength(1);
    expect((await t.create(2, other)).kind).toBe('launched');
  });

  it('without the forwarder instance (an older forwarder) no pool agent is launched, and the status report says why', async () => {
    const t = setup();
    await t.service.serverPing([CLUSTER], [], undefined, undefined);
    await t.create(1);
    expect(t.livePool()).toHaveLength(0);
    const report = await t.service.clusterReport(CLUSTER);
    expect(report.pools).toEqual([
      expect.objectContaining({ size: 2, waiting: 0, whyNotFull: expect.stringContaining('forwarder') }),
    ]);
  });
});

describe('warm pools: one job per pool agent', () => {
  it('a pool agent that ran its job is asked for a second job before job-completion and refuses; job-completion stops it', async () => {
    const t = await withFullPool();
    await t.create(2);
    t.gocd.schedule(t.plan(2));
    const [{ agentId }] = t.gocd.assignmentRound() as [{ agentId: string; jobId: number }];
    // Job 2 ends; job 3 of the same profile is scheduled; the idle agent asks for work before job-completion.
    t.gocd.finish(2);
    t.gocd.schedule(t.plan(3));
    expect(t.gocd.askForWork(agentId)).toBeUndefined();
    const { actions } = await t.complete(2);
    expect(actions).toEqual({ disable: [agentId], delete: [agentId] });
    expect(t.backend.agents.find((a) => a.agentId === agentId)?.status).toBe('stopped');
    expect(t.backend.stops.find((s) => s.agentId === agentId)?.reason).toMatch(/^GoCD job .* completed$/);
    expect(t.gocd.reused()).toEqual([]);
  });

  it('a pool agent is stopped at job-completion even when the cluster keeps idle agents (idle_timeout_minutes)', async () => {
    const t = await withFullPool({ cluster: { ...CLUSTER, idle_timeout_minutes: '30' } });
    await t.create(2);
    t.gocd.schedule(t.plan(2));
    const [{ agentId }] = t.gocd.assignmentRound() as [{ agentId: string; jobId: number }];
    const { actions } = await t.complete(2);
    expect(actions.delete).toEqual([agentId]);
  });

  it('GoCD asking every idle pool agent about several jobs at once gives each job one agent and no agent two jobs', async () => {
    const t = await withFullPool({ cluster: { ...CLUSTER, max_agents: '20' } });
    for (let i = 10; i < 16; i++) await t.create(i);
    t.registerAll();
    for (let i = 10; i < 16; i++) t.gocd.schedule(t.plan(i));
    // Agents ask in parallel; GoCD's assignment is serialised (synchronized), so they interleave in some order.
    const answers = await Promise.all([...t.gocd.agents.keys()].map(async (id) => t.gocd.askForWork(id)));
    const given = answers.filter((j) => j !== undefined);
    expect(new Set(given).size).toBe(given.length);
    // Job 1's own agent may take only job 1 (already gone): every job here went to a pool agent.
    for (const [jobId, agentId] of t.gocd.assigned) expect(parsePoolAgentId(agentId), `job ${jobId}`).toBeDefined();
    expect(t.gocd.reused()).toEqual([]);
  });

  it('after a forwarder restart, pool agents of the earlier instance take no job: disabled at the next server-ping, stopped at the one after', async () => {
    const t = await withFullPool();
    const old = t.livePool().map((a) => a.agentId);
    t.gocd.restartForwarder('0badc0de');
    t.gocd.schedule(t.plan(2));
    expect(t.gocd.assignmentRound()).toEqual([]);
    const first = await t.ping();
    expect(first.disable.sort()).toEqual([...old].sort());
    // The pool refilled with agents of the new instance.
    const fresh = t.livePool().filter((a) => parsePoolAgentId(a.agentId)?.instance === '0badc0de');
    expect(fresh).toHaveLength(2);
    const second = await t.ping();
    expect(second.delete.sort()).toEqual([...old].sort());
    for (const id of old) expect(t.backend.agents.find((a) => a.agentId === id)?.status).toBe('stopped');
  });
});

describe('warm pools: recycling', () => {
  it('a waiting pool agent is recycled after warm_pool_idle_minutes (not the cluster idle timeout) and replaced', async () => {
    const t = await withFullPool();
    const first = t.livePool().map((a) => a.agentId);
    const pool = (ids: string[]) => ids.filter((id) => parsePoolAgentId(id)).sort();
    t.advance(30 * MINUTE);
    expect(pool((await t.ping()).disable)).toEqual([]);
    t.advance(45 * MINUTE); // 75 min > registration 10 + idle 60
    expect(pool((await t.ping()).disable)).toEqual([...first].sort());
    await t.ping();
    for (const id of first) expect(t.backend.agents.find((a) => a.agentId === id)?.status).toBe('stopped');
    expect(t.livePool().filter((a) => !first.includes(a.agentId))).toHaveLength(2);
  });

  it("a push that moves the pool's image tag retires its waiting agents and refills with new ones", async () => {
    const t = await withFullPool();
    const first = t.livePool().map((a) => a.agentId);
    t.advance(1000);
    expect(t.service.agents.recycleImage('docker.io/gocd/gocd-agent-debian-12:v25.1.0')).toBe(1);
    // The retired agents are held for no job any more.
    expect((await t.create(7)).kind).toBe('launched');
    expect((await t.ping()).disable.sort()).toEqual([...first].sort());
    expect(t.livePool().filter((a) => !first.includes(a.agentId)).length).toBeGreaterThanOrEqual(2);
  });

  it('image references compare as Docker names them (implicit docker.io/library and :latest)', () => {
    expect(sameImage('alpine', 'docker.io/library/alpine:latest')).toBe(true);
    expect(sameImage('gocd/agent:1', 'docker.io/gocd/agent:1')).toBe(true);
    expect(sameImage('registry.example.com:5000/a/b:1', 'registry.example.com:5000/a/b:1')).toBe(true);
    expect(sameImage('registry.example.com/a/b:1', 'registry.example.com/a/b:2')).toBe(false);
  });
});

describe('warm pools: schedule', () => {
  const scheduled = { ...PROFILE, warm_pool_schedule: '* 8-17 * * *' };

  it('keeps the pool inside warm_pool_schedule and none outside it: waiting agents recycled, refilled when it opens', async () => {
    const t = setup(); // 09:00 UTC
    await t.ping();
    await t.create(1, scheduled);
    t.registerAll();
    const first = t.livePool().map((a) => a.agentId);
    expect(first).toHaveLength(2);
    t.advance(9.5 * 60 * MINUTE); // 18:30
    const pool = (ids: string[]) => ids.filter((id) => parsePoolAgentId(id)).sort();
    expect(pool((await t.ping()).disable)).toEqual([...first].sort());
    expect((await t.create(2, scheduled)).kind).toBe('launched');
    const report = await t.service.clusterReport(CLUSTER);
    expect(report.pools[0]?.whyNotFull).toContain('outside warm_pool_schedule');
    await t.ping();
    expect(t.livePool()).toHaveLength(0);
    t.advance(14 * 60 * MINUTE); // 08:30 the next day
    await t.ping();
    expect(t.livePool()).toHaveLength(2);
  });

  it('validate-elastic-agent-profile names a schedule that is not a cron expression', () => {
    expect(validateElasticProperties({ image: 'x', warm_pool_schedule: 'weekdays' })).toEqual([
      { key: 'warm_pool_schedule', message: expect.stringContaining('not a cron expression') },
    ]);
    expect(validateElasticProperties({ image: 'x', warm_pool_schedule: '*/5 7-18 * * 1-5' })).toEqual([]);
  });
});

describe('warm pools: status report', () => {
  it('shows each pool: size, waiting, held for a job, in use', async () => {
    const t = await withFullPool();
    await t.create(2);
    t.gocd.schedule(t.plan(2));
    t.gocd.assignmentRound();
    await t.ping();
    const report = await t.service.clusterReport(CLUSTER);
    const [pool] = report.pools;
    expect(pool).toMatchObject({ size: 2, image: PROFILE.image, inUse: 1, refilling: 0 });
    // The held agent may not be the one GoCD gave job 2 (any pool agent of the profile may take it): held + waiting
    // is what is left of the pool, and the refill keeps two unheld.
    expect(pool!.waiting).toBe(2);
    expect(pool!.reserved).toBeLessThanOrEqual(1);
    const html = renderClusterSection(report);
    expect(html).toContain('<h4>Warm pools</h4>');
    expect(html).toContain(`<code>${pool!.hash}</code>`);
    expect(html).toMatch(/<td>ea-pool-[0-9a-f-]+<\/td><td><span class="muted">warm pool [0-9a-f]{12}<\/span>/);
  });
});
