import { AsyncLocalStorage } from 'node:async_hooks';

/** Which kind of invocation a piece of work belongs to, and how long it may wait for GoCD inside it. */
export interface InvocationScope {
  /**
   * `http`: a webhook, answered at once (GoCD busy → the retry queue); `event`: EventBridge (GoCD busy → retry inside
   * the invocation, then fail it so Lambda retries); `schedule`: the backstop poll (the next poll retries); `queue`:
   * a retry-queue message (GoCD busy → queued again until the retry window is over).
   */
  kind: 'http' | 'event' | 'schedule' | 'queue';
  /** Epoch ms until which GoCD 409/5xx may be retried inside this invocation. */
  retryUntil: number;
  /** Epoch ms of the trigger's first attempt (a retried message keeps it, so the overall window holds). */
  firstAttemptAt: number;
  /** Deferrals so far (0 for fresh work). */
  attempt: number;
  /**
   * Epoch ms until which an agent launch may wait out ECS throttling inside this invocation; past it the launch goes
   * to the retry queue. Unset: the backend's own bound.
   */
  launchUntil?: number;
}

const storage = new AsyncLocalStorage<InvocationScope>();

/** Runs `work` with `scope` visible to everything it calls (the scheduler and deferrer read it). */
export function runInScope<T>(scope: InvocationScope, work: () => Promise<T>): Promise<T> {
  return storage.run(scope, work);
}

/** The scope of the running invocation, or undefined outside any (tests, a process deployment). */
export function currentScope(): InvocationScope | undefined {
  return storage.getStore();
}
