import { exponentialDelay } from './backoff.js';

/** Longest wait between two tries of a throttled call. */
const MAX_THROTTLE_WAIT_MS = 5_000;

/** How `retryWhileThrottled` tells throttling apart, and waits. */
export interface ThrottleRetry {
  /** True for an error that means "paced, try again later" (nothing is wrong). */
  isThrottled: (err: unknown) => boolean;
  /** Epoch ms (on `now`'s clock) after which no further try starts. */
  deadline: number;
  now: () => number;
  sleep: (ms: number) => Promise<unknown>;
  /** First wait (default 500 ms). */
  firstDelayMs?: number;
}

/**
 * Runs `call`; while it fails throttled, waits (the service's backoff, backoff.ts: `firstDelayMs` doubling, at most
 * 5 s, no jitter: one caller per key waits) and runs it again, until the next try would start after the deadline:
 * then the last throttling error is thrown. Any other error is thrown at once.
 */
export async function retryWhileThrottled<T>(call: () => Promise<T>, retry: ThrottleRetry): Promise<T> {
  const policy = { baseMs: retry.firstDelayMs ?? 500, capMs: MAX_THROTTLE_WAIT_MS };
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!retry.isThrottled(err)) throw err;
      const wait = exponentialDelay(policy, attempt);
      if (retry.now() + wait > retry.deadline) throw err;
      await retry.sleep(wait);
    }
  }
}
