import { describe, expect, it } from 'vitest';
import { ECS_RUN_TASK_QUOTA, RequestPacer } from '../../src/backends/ecs/request-pacer.js';

/** Every wait for a turn carries this margin against timers firing a millisecond early. */
const MARGIN = 5;

/** A pacer on a manual clock: `sleep` moves time, so turns are exact and the test does not wait. */
function pacer(quota = ECS_RUN_TASK_QUOTA, headroom = 0) {
  let t = 0;
  const p = new RequestPacer(
    quota,
    () => t,
    async (ms) => {
      t += ms;
    },
    headroom,
  );
  return { p, now: () => t };
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
    expect(times[100]).toBeCloseTo(25 + MARGIN, 6);
    // Each wait is measured from its own call: the margins do not add up.
    expect(times[139]).toBeLessThanOrEqual(1000 + 40 * MARGIN);
    expect(times[139]).toBeGreaterThanOrEqual(1000);
  });

  it('1,000 launches at once are handed out in (1000 − 90) / 40 = 22.75 s, keeping 10% of the burst as headroom', async () => {
    // All 1,000 ask at t = 0; each is told how long to wait for its turn.
    const waits: number[] = [];
    const shared = new RequestPacer(
      ECS_RUN_TASK_QUOTA,
      () => 0,
      async (ms) => {
        waits.push(ms);
      },
    );
    await Promise.all(Array.from({ length: 1000 }, () => shared.acquire()));
    expect(waits).toHaveLength(910);
    expect(Math.max(...waits)).toBeCloseTo(22_750 + MARGIN, 6);
    // ECS's own minimum for 1,000 RunTask calls is 22.5 s: the pacer stays within 1.25× of it.
    expect(Math.max(...waits)).toBeLessThanOrEqual(1.25 * 22_500);
  });

  it('answers false, taking nothing, when the turn would come after the deadline', async () => {
    const { p, now } = pacer({ burst: 1, refillPerSecond: 1 });
    expect(await p.acquire(now())).toBe(true);
    expect(await p.acquire(now() + 500)).toBe(false);
    expect(await p.acquire(now() + 1000)).toBe(true);
    expect(now()).toBe(1000 + MARGIN);
  });

  it('after ECS throttles anyway (other callers share the bucket), waits for the refill', async () => {
    const { p, now } = pacer({ burst: 10, refillPerSecond: 10 });
    await p.acquire();
    p.throttled();
    await p.acquire();
    expect(now()).toBe(100 + MARGIN);
  });
});
