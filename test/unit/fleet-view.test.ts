import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../src/agents/agent-backend.port.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { FleetView } from '../../src/agents/fleet-view.js';
import { BackendUnavailableError } from '../../src/errors.js';
import { CLUSTER, job, PROFILE } from '../support/gocd-bodies.js';
import { MemoryBackend } from '../support/memory-backend.js';
import { edgeService } from '../support/profiles.js';

const agent = (jobId: number, extra: Partial<AgentRecord> = {}): AgentRecord => ({
  agentId: agentIdFor('c', jobId),
  jobId,
  clusterId: 'c',
  pipeline: 'p/1/s/1/j',
  ref: `task-${jobId}`,
  status: 'running',
  createdAt: new Date(0),
  ...extra,
});

describe('FleetView', () => {
  it('counts the last listing plus launches since, minus stops since', () => {
    let t = 1_000_000;
    const view = new FleetView({ now: () => t });
    view.update('c', [agent(1), agent(2)], t);
    view.reserve('c', agentIdFor('c', 3));
    expect(view.count('c')).toBe(3);
    view.launched('c', agent(3));
    view.stopped('c', agentIdFor('c', 1));
    expect(view.count('c')).toBe(2);
    expect(view.agentOfJob('c', 1)).toBeUndefined();
    expect(view.agentOfJob('c', 3)?.ref).toBe('task-3');
    expect(view.find('c', agentIdFor('c', 2))?.ref).toBe('task-2');
    view.release('c', agentIdFor('c', 3));
    expect(view.count('c')).toBe(1);
    t += 1;
  });

  it('keeps counting a launch that a later listing may not show yet (eventual consistency), then trusts listings', () => {
    let t = 1_000_000;
    const view = new FleetView({ now: () => t, consistencyMs: 60_000 });
    view.reserve('c', agentIdFor('c', 9));
    view.launched('c', agent(9));
    t += 30_000;
    view.update('c', [], t); // listed 30 s after the launch: may miss it
    expect(view.count('c')).toBe(1);
    t += 31_000;
    view.update('c', [], t); // listed 61 s after: the launch would be there if it were live
    expect(view.count('c')).toBe(0);
  });

  it('keeps counting a reservation whose launch still waits for its turn, however many listings pass meanwhile', () => {
    let t = 1_000_000;
    const view = new FleetView({ now: () => t, consistencyMs: 60_000 });
    view.reserve('c', agentIdFor('c', 7)); // RunTask waits for its pacer turn: no task yet, so no listing shows it
    for (let minute = 1; minute <= 5; minute++) {
      t += 60_000;
      view.update('c', [], t);
      expect(view.count('c'), `minute ${minute}`).toBe(1);
    }
    // It launched at last: a listing within the consistency window of *that* may still miss it.
    view.launched('c', agent(7));
    t += 30_000;
    view.update('c', [], t);
    expect(view.count('c')).toBe(1);
    t += 31_000;
    view.update('c', [], t);
    expect(view.count('c')).toBe(0);
  });

  it('gives up on a listing that stays throttled after its own bound when the caller names no deadline', async () => {
    let t = 0;
    let sleeps = 0;
    const view = new FleetView({
      now: () => t,
      throttleWaitMs: 20_000,
      sleep: async (ms) => {
        // Unbounded retries would spin here for ever: stop them as a failure.
        if (++sleeps > 100) throw new Error('retried without bound');
        t += ms;
      },
    });
    const throttled = new BackendUnavailableError('listing throttled', { throttled: true });
    let lists = 0;
    await expect(
      view.ensure('c', async () => {
        lists++;
        throw throttled;
      }),
    ).rejects.toBe(throttled);
    // 0.5 + 1 + 2 + 4 + 5 + 5 = 17.5 s of waiting; the next wait would end past 20 s.
    expect(t).toBe(17_500);
    expect(lists).toBe(7);
  });

  it('refreshes a missing or stale view with one listing shared by concurrent callers', async () => {
    let t = 0;
    const view = new FleetView({ now: () => t, maxAgeMs: 120_000 });
    let lists = 0;
    const list = async () => {
      lists++;
      await new Promise((r) => setTimeout(r, 5));
      return [agent(1)];
    };
    await Promise.all(Array.from({ length: 50 }, () => view.ensure('c', list)));
    expect(lists).toBe(1);
    t += 120_000;
    await view.ensure('c', list);
    expect(lists).toBe(1);
    t += 1;
    await view.ensure('c', list);
    expect(lists).toBe(2);
  });

  it('waits out a throttled listing until its deadline, and gives up past it', async () => {
    let t = 0;
    const sleeps: number[] = [];
    const view = new FleetView({
      now: () => t,
      sleep: async (ms) => {
        sleeps.push(ms);
        t += ms;
      },
    });
    let failures = 2;
    const throttled = new BackendUnavailableError('listing throttled', { throttled: true });
    const flaky = async () => {
      if (failures-- > 0) throw throttled;
      return [agent(1)];
    };
    await view.ensure('c', flaky, 10_000);
    expect(sleeps).toEqual([500, 1000]);
    expect(view.count('c')).toBe(1);
    const alwaysThrottled = async (): Promise<AgentRecord[]> => {
      throw throttled;
    };
    await expect(view.ensure('d', alwaysThrottled, t + 1_000)).rejects.toBe(throttled);
    // Any other failure is not waited out.
    const broken = new BackendUnavailableError('AccessDenied');
    await expect(
      view.ensure('e', async () => {
        throw broken;
      }),
    ).rejects.toBe(broken);
  });
});

/** A service over a memory backend with `max_agents` = `maxAgents`, and create-agent for a job id on it. */
function capped(maxAgents: number) {
  const backend = new MemoryBackend();
  const service = edgeService(backend);
  const cap = { ...CLUSTER, max_agents: String(maxAgents) };
  const create = (jobId: number) =>
    service.createAgent({ autoRegisterKey: 'k', job: job(jobId), clusterProperties: cap, profileProperties: PROFILE });
  return { backend, service, cap, create };
}

describe('create-agent reads per job', () => {
  it('lists once for a burst of create-agents, then not again while server-ping keeps the view fresh', async () => {
    let t = Date.parse('2026-12-01T00:00:00Z');
    const backend = new MemoryBackend(() => new Date(t));
    let lists = 0;
    const list = backend.list.bind(backend);
    backend.list = async (c) => {
      lists++;
      return list(c);
    };
    const service = edgeService(backend, { now: () => new Date(t) });
    const cluster = { ...CLUSTER, max_agents: '1000' };
    const create = (jobId: number) =>
      service.createAgent({
        autoRegisterKey: `k${jobId}`,
        job: job(jobId),
        clusterProperties: cluster,
        profileProperties: PROFILE,
      });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => create(i + 1)));
    expect(results.every((r) => r.kind === 'launched')).toBe(true);
    expect(lists).toBe(1);
    // GoCD's server-ping every minute lists the cluster in bulk: create-agents in between list nothing.
    for (let minute = 0; minute < 5; minute++) {
      t += 60_000;
      await service.serverPing([cluster], undefined);
      await Promise.all(Array.from({ length: 20 }, (_, i) => create(1000 + minute * 100 + i)));
    }
    expect(lists).toBe(1 + 5);
    // Duplicates of launched jobs are answered from memory: no listing, no second agent.
    const again = await Promise.all(Array.from({ length: 200 }, (_, i) => create(i + 1)));
    expect(again.every((r) => r.kind === 'existing')).toBe(true);
    expect(backend.launches).toHaveLength(300);
    expect(lists).toBe(6);
  });

  it('frees the reserved slot when a launch throws, so the cap is not held by a launch that never happened', async () => {
    const { backend, create } = capped(1);
    const launch = backend.launch.bind(backend);
    backend.launch = async () => {
      throw new Error('engine exploded');
    };
    expect((await create(1)).kind).toBe('error');
    backend.launch = launch;
    expect((await create(2)).kind).toBe('launched');
  });

  it('counts agents stopped by job-completion out of the cap at once, without a listing', async () => {
    const { backend, service, cap, create } = capped(2);
    expect((await create(1)).kind).toBe('launched');
    expect((await create(2)).kind).toBe('launched');
    expect((await create(3)).kind).toBe('waiting');
    const listSpy = backend.list.bind(backend);
    let lists = 0;
    backend.list = async (c) => {
      lists++;
      return listSpy(c);
    };
    await service.jobCompleted({ elasticAgentId: agentIdFor('test', 1), job: job(1), clusterProperties: cap });
    expect((await create(3)).kind).toBe('launched');
    expect(lists).toBe(0);
  });
});
