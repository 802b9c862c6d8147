/** Longest wait between two tries of a throttled call. */
const MAX_THROTTLE_WAIT_MS = 5_000;

/** The wait before try `attempt + 2` of a call the peer throttled: `firstMs` (500 ms) doubling, at most 5 s. */
export function throttleBackoffMs(attempt: number, firstMs = 500): number {
  return Math.min(MAX_THROTTLE_WAIT_MS, firstMs * 2 ** attempt);
}

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
 * Runs `call`; while it fails throttled, waits (throttleBackoffMs) and runs it again, until the next try would start
 * after the deadline: then the last throttling error is thrown. Any other error is thrown at once.
 */
export async function retryWhileThrottled<T>(call: () => Promise<T>, retry: ThrottleRetry): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!retry.isThrottled(err)) throw err;
      const wait = throttleBackoffMs(attempt, retry.firstDelayMs);
      if (retry.now() + wait > retry.deadline) throw err;
      await retry.sleep(wait);
    }
  }
}
