import { setTimeout as sleepMs } from 'node:timers/promises';

/** A token bucket's size and refill. */
export interface RateQuota {
  burst: number;
  refillPerSecond: number;
}

/** Added to every wait for a turn (see `acquire`). */
const TIMER_MARGIN_MS = 5;

/**
 * ECS's "cluster resource modify" throttling category — RunTask, StartTask, StopTask share one bucket of 100 refilled
 * at 40/s per account and Region ("Request throttling for the Amazon ECS API",
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html). Raised quotas are configured.
 */
export const ECS_RUN_TASK_QUOTA: Readonly<RateQuota> = Object.freeze({ burst: 100, refillPerSecond: 40 });

/**
 * Client-side pacing of one ECS throttling bucket: each call waits for its turn in a token bucket of ECS's size, so a
 * burst of launches goes out at ECS's own rate instead of being throttled and retried. Turns are handed out in call
 * order (a reservation may drive the count below zero: the queue). When ECS still throttles (other callers in the
 * account draw from the same bucket), `throttled()` empties this count, and later turns wait for the refill.
 */
export class RequestPacer {
  private tokens: number;
  private at: number;

  /** The part of ECS's burst this pacer spends; the rest is headroom (see the constructor). */
  private readonly burst: number;

  /**
   * `headroom`: the share of ECS's burst left unused (default 10%). Turns are counted when a call is handed out, ECS
   * counts it when the request arrives; calls handed out over a busy second can reach ECS within a shorter one, and
   * other tools in the account draw from the same bucket. The refill rate is used in full.
   */
  constructor(
    readonly quota: RateQuota,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<unknown> = sleepMs,
    headroom = 0.1,
  ) {
    this.burst = Math.max(1, Math.floor(quota.burst * (1 - headroom)));
    this.tokens = this.burst;
    this.at = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.at) / 1000) * this.quota.refillPerSecond);
    this.at = t;
  }

  /** Waits for this call's turn; false (nothing taken) when the turn would come after `deadline` (epoch ms). */
  async acquire(deadline?: number): Promise<boolean> {
    this.refill();
    const waitMs = this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.quota.refillPerSecond) * 1000;
    if (deadline !== undefined && this.now() + waitMs > deadline) return false;
    this.tokens -= 1;
    // A timer may fire a millisecond early (whole-millisecond, cached loop time): a call arriving just before ECS
    // refilled its token is throttled, and its retries then steal the turns of the calls behind it.
    if (waitMs > 0) await this.sleep(waitMs + TIMER_MARGIN_MS);
    return true;
  }

  /** ECS answered ThrottlingException: its bucket is empty, whatever this count says. */
  throttled(): void {
    this.refill();
    this.tokens = Math.min(this.tokens, 0);
  }
}
