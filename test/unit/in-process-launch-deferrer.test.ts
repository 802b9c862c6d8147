import { describe, expect, it } from 'vitest';
import type { CreateAgentCommand, LaunchBudget } from '../../src/agents/commands.js';
import { DEFERRED_LAUNCH_WINDOW_MS, InProcessLaunchDeferrer } from '../../src/agents/in-process-launch-deferrer.js';
import { job } from '../support/gocd-bodies.js';
import { commands } from '../support/profiles.js';

function command(jobId: number, clusterId = 'c1'): CreateAgentCommand {
  return commands.createAgent({
    autoRegisterKey: 'key',
    job: job(jobId),
    clusterProperties: { go_server_url: 'https://gocd.example.com/go', cluster_id: clusterId },
    profileProperties: { image: 'gocd/gocd-agent-debian-12:v25.1.0' },
  });
}

/** A virtual clock and timer list: nothing here depends on this machine's speed. */
function harness(options: { maxPending?: number } = {}) {
  let now = 1_000_000;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  const runs: { jobId: number; budget: LaunchBudget }[] = [];
  const deferrer = new InProcessLaunchDeferrer({
    run: async (c, budget) => {
      runs.push({ jobId: c.job.job_id, budget });
    },
    now: () => now,
    schedule: (fn, ms) => {
      const t = { at: now + ms, fn, cancelled: false };
      timers.push(t);
      return { cancel: () => (t.cancelled = true) };
    },
    ...options,
  });
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.filter((x) => !x.cancelled && x.at <= now)) {
      t.cancelled = true;
      t.fn();
    }
  };
  return { deferrer, runs, advance, setNow: (t: number) => (now = t), now: () => now };
}

describe('the process retry queue for throttled launches', () => {
  it('runs a deferred create-agent again after its delay, with a fresh deadline and the deferral counted', async () => {
    const h = harness();
    expect(await h.deferrer.defer(command(7), { deadline: h.now() })).toBe(true);
    expect(h.deferrer.size).toBe(1);
    h.advance(999);
    expect(h.runs).toEqual([]);
    h.advance(1);
    expect(h.runs).toEqual([{ jobId: 7, budget: { deferral: { firstAttemptAt: 1_000_000, attempt: 1 } } }]);
    expect(h.deferrer.size).toBe(0);
  });

  it('backs off by attempt: the second deferral of a job waits twice as long, keeping its first attempt time', async () => {
    const h = harness();
    const first = h.now() - 10;
    expect(await h.deferrer.defer(command(7), { deferral: { firstAttemptAt: first, attempt: 1 } })).toBe(true);
    h.advance(1_999);
    expect(h.runs).toEqual([]);
    h.advance(1);
    expect(h.runs[0]?.budget).toEqual({ deferral: { firstAttemptAt: first, attempt: 2 } });
  });

  it('keeps one entry per job: a re-sent create-agent of a waiting job adds no second run', async () => {
    const h = harness();
    expect(await h.deferrer.defer(command(7), {})).toBe(true);
    expect(await h.deferrer.defer(command(7), {})).toBe(true);
    expect(await h.deferrer.defer(command(7, 'c2'), {})).toBe(true);
    expect(h.deferrer.size).toBe(2);
    h.advance(1_000);
    expect(h.runs.map((r) => r.jobId)).toEqual([7, 7]);
  });

  it('stops deferring a launch after the window: GoCD re-sends it', async () => {
    const h = harness();
    const first = h.now();
    h.setNow(first + DEFERRED_LAUNCH_WINDOW_MS - 1);
    expect(await h.deferrer.defer(command(1), { deferral: { firstAttemptAt: first, attempt: 4 } })).toBe(true);
    h.setNow(first + DEFERRED_LAUNCH_WINDOW_MS);
    expect(await h.deferrer.defer(command(2), { deferral: { firstAttemptAt: first, attempt: 4 } })).toBe(false);
  });

  it('refuses beyond its bound, and says how many launches close() drops', async () => {
    const h = harness({ maxPending: 2 });
    expect(await h.deferrer.defer(command(1), {})).toBe(true);
    expect(await h.deferrer.defer(command(2), {})).toBe(true);
    expect(await h.deferrer.defer(command(3), {})).toBe(false);
    expect(h.deferrer.close()).toBe(2);
    h.advance(60_000);
    expect(h.runs).toEqual([]);
  });
});
