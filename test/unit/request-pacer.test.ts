import { describe, expect, it } from 'vitest';
import { ECS_RUN_TASK_QUOTA, RequestPacer } from '../../src/backends/ecs/request-pacer.js';

/** A pacer on a manual clock: `sleep` moves time, so turns are exact and the test does not wait. */
function pacer(quota = ECS_RUN_TASK_QUOTA) {
  let t = 0;
  const p = new RequestPacer(
    quota,
    () => t,
    async (ms) => {
      t += ms;
    },
  );
  return { p, now: () => t, advance: (ms: number) => (t += ms) };
}

describe('RequestPacer (ECS RunTask/StopTask bucket: 100, 40/s)', () => {
  it('grants the burst at once, then one turn per 1/40 s, in call order', async () => {
    const { p, now } = pacer();
    const times: number[] = [];
    for (let i = 0; i < 140; i++) {
      await p.acquire();
      times.push(now());
    }
    expect(times.slice(0, 100).every((x) => x === 0)).toBe(true);
    expect(times[100]).toBeCloseTo(25, 6);
    expect(times[139]).toBeCloseTo(1000, 6);
  });

  it('1,000 launches at once take ECS’s own minimum: (1000 − 100) / 40 = 22.5 s', async () => {
    // All 1,000 ask at t = 0; each is told how long to wait for its turn.
    const turns: number[] = [];
    const shared = new RequestPacer(
      ECS_RUN_TASK_QUOTA,
      () => 0,
      async (ms) => {
        turns.push(ms);
      },
    );
    await Promise.all(Array.from({ length: 1000 }, () => shared.acquire()));
    expect(turns).toHaveLength(900);
    expect(Math.max(...turns)).toBeCloseTo(22_500, 6);
  });

  it('answers false, taking nothing, when the turn would come after the deadline', async () => {
    const { p, now } = pacer({ burst: 1, refillPerSecond: 1 });
    expect(await p.acquire(now())).toBe(true);
    expect(await p.acquire(now() + 500)).toBe(false);
    expect(await p.acquire(now() + 1000)).toBe(true);
    expect(now()).toBe(1000);
  });

  it('after ECS throttles anyway (other callers share the bucket), waits for the refill', async () => {
    const { p, now } = pacer({ burst: 10, refillPerSecond: 10 });
    await p.acquire();
    p.throttled();
    await p.acquire();
    expect(now()).toBe(100);
  });
});
