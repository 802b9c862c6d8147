import { exponentialDelay } from '../backoff.js';
import type { LaunchDeferrer } from './agent-service.js';
import type { CreateAgentCommand, LaunchBudget } from './commands.js';

/** How long a throttled launch keeps being deferred; GoCD re-sends create-agent for a waiting job every ~2 minutes. */
export const DEFERRED_LAUNCH_WINDOW_MS = 15 * 60_000;

/** Launches waiting here at most: beyond, a throttled job waits for GoCD's re-send (and is reported so). */
const MAX_PENDING = 10_000;

export interface InProcessLaunchDeferrerOptions {
  /** Runs the create-agent again (the agent service's `createAgent`); it never throws. */
  run: (command: CreateAgentCommand, budget: LaunchBudget) => Promise<unknown>;
  now?: () => number;
  /** Injected for tests (a virtual clock); the timer must not keep the process alive. */
  schedule?: (fn: () => void, ms: number) => { cancel(): void };
  /** Defaults: 1 s doubling to at most 30 s (the pacer hands turns out in order; a retry only needs to rejoin it). */
  delayMs?: (attempt: number) => number;
  maxPending?: number;
}

function unrefTimer(fn: () => void, ms: number): { cancel(): void } {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return { cancel: () => clearTimeout(timer) };
}

/**
 * The process's retry queue for create-agents ECS throttled past their answer's deadline: the answer goes back to
 * GoCD in time (the forwarder waits 30 s) while the launch keeps its turn here and runs again shortly — issue 17's
 * "a throttled ECS call never fails a job; the service queues and paces its own launches". A burst larger than what
 * ECS's RunTask bucket serves within one deadline (100 + 40/s: ~900 launches in 20 s) therefore still gets every job
 * its agent within the bucket's own time, instead of waiting for GoCD's re-send minutes later. Lambda, where nothing
 * runs after the answer, uses the SQS retry queue instead (src/lambda/sqs-launch-deferrer.ts).
 *
 * One entry per job (a re-sent create-agent of a job already waiting here adds nothing). What is waiting here is lost
 * when the process stops: `close()` says how many, and GoCD's next create-agent launches them.
 */
export class InProcessLaunchDeferrer implements LaunchDeferrer {
  private readonly pending = new Map<string, { cancel(): void }>();
  private readonly now: () => number;
  private readonly schedule: (fn: () => void, ms: number) => { cancel(): void };
  private readonly delayMs: (attempt: number) => number;
  private readonly maxPending: number;

  constructor(private readonly options: InProcessLaunchDeferrerOptions) {
    this.now = options.now ?? Date.now;
    this.schedule = options.schedule ?? unrefTimer;
    this.delayMs = options.delayMs ?? ((attempt) => exponentialDelay({ baseMs: 1_000, capMs: 30_000 }, attempt));
    this.maxPending = options.maxPending ?? MAX_PENDING;
  }

  /** Launches waiting for their next attempt. */
  get size(): number {
    return this.pending.size;
  }

  async defer(command: CreateAgentCommand, budget: LaunchBudget): Promise<boolean> {
    const key = `${command.clusterId}\0${command.job.job_id}`;
    if (this.pending.has(key)) return true;
    const now = this.now();
    const firstAttemptAt = budget.deferral?.firstAttemptAt ?? now;
    if (now - firstAttemptAt >= DEFERRED_LAUNCH_WINDOW_MS || this.pending.size >= this.maxPending) return false;
    const attempt = (budget.deferral?.attempt ?? 0) + 1;
    const timer = this.schedule(() => {
      this.pending.delete(key);
      // A fresh request deadline (the service's default) for the new attempt; the deferral travels with it.
      void this.options.run(command, { deferral: { firstAttemptAt, attempt } });
    }, this.delayMs(attempt));
    this.pending.set(key, timer);
    return true;
  }

  /** Drops every waiting launch (shutdown); returns how many GoCD's re-sends must now launch. */
  close(): number {
    const dropped = this.pending.size;
    for (const timer of this.pending.values()) timer.cancel();
    this.pending.clear();
    return dropped;
  }
}
