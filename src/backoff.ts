/**
 * The one backoff policy of the service: exponential growth from `baseMs`, capped at `capMs`, with full jitter where
 * many callers may retry at once ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015: a random wait in
 * [0, min(cap, base·2^n)) spreads retries best for the least total work). Used for GoCD schedule retries, ECS API
 * retries, and (without jitter: SQS delays are whole seconds set per message) the retry queue's delays.
 */
export interface Backoff {
  baseMs: number;
  capMs: number;
}

/** The exponential delay before retry `n` (1 for the first retry): min(cap, base·2^(n-1)). */
export function exponentialDelay(policy: Backoff, n: number): number {
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(30, Math.max(0, n - 1)));
}

/** A random wait in [0, exponentialDelay(n)): full jitter. */
export function fullJitterDelay(policy: Backoff, n: number, random: () => number = Math.random): number {
  return Math.floor(random() * exponentialDelay(policy, n));
}
