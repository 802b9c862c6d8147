import type { LaunchBudget } from '../agents/commands.js';
import type { TriggerBudget } from '../registry/trigger-service.js';
import type { LambdaContext } from './lambda-events.js';

// What each kind of invocation may spend waiting (for a busy GoCD, for ECS's RunTask bucket), handed to the work as
// an argument: Lambda stops an invocation at its timeout, and nothing runs after its answer.

/** Time kept back from an invocation's remaining time for settling keys and answering. */
export const MARGIN_MS = 15_000;
/**
 * How long a create-agent may wait inside the HTTP invocation for its turn in ECS's RunTask bucket before it is
 * queued: well within the forwarder's 30 s deadline.
 */
export const HTTP_LAUNCH_WAIT_MS = 10_000;
/** The same for a create-agent run from the retry queue (its batch runs one message after another). */
export const QUEUED_LAUNCH_WAIT_MS = 20_000;
/** Per-attempt timeout of a webhook's schedule attempt: senders such as GitHub give up after 10 s. */
const HTTP_ATTEMPT_TIMEOUT_MS = 5_000;

/** What the Lambda knows beyond the invocation: the config's retry window, and whether a retry queue exists. */
export interface BudgetSettings {
  /** `gocd.scheduleRetryWindowSeconds`, in ms. */
  retryWindowMs: number;
  /** A retry queue is configured (`SCALER_RETRY_QUEUE_URL`): busy-GoCD triggers and throttled launches wait there. */
  retryQueue: boolean;
}

/** Up to `waitMs`, and never into the margin of an invocation with `context`'s remaining time. */
function waitWithin(context: LambdaContext, waitMs: number): number {
  const remaining = context.getRemainingTimeInMillis?.() ?? waitMs + MARGIN_MS;
  return Math.max(0, Math.min(waitMs, remaining - MARGIN_MS));
}

/**
 * A Function URL request. A webhook answers after one GoCD attempt when there is a retry queue (a busy GoCD defers to
 * it); without one it may retry for the config's window, within the invocation's time. A create-agent may wait up to
 * HTTP_LAUNCH_WAIT_MS for ECS, then is queued.
 */
export function httpBudgets(
  context: LambdaContext,
  settings: BudgetSettings,
  now: number,
): { launch: LaunchBudget; triggers: TriggerBudget } {
  return {
    launch: { deadline: now + waitWithin(context, HTTP_LAUNCH_WAIT_MS) },
    triggers: {
      retryUntil: now + (settings.retryQueue ? 0 : waitWithin(context, settings.retryWindowMs)),
      attemptTimeoutMs: HTTP_ATTEMPT_TIMEOUT_MS,
      firstAttemptAt: now,
      attempt: 0,
      whenBusy: 'defer',
    },
  };
}

/**
 * An EventBridge ECR push or the backstop schedule: GoCD busy is retried inside the invocation, then the claim is
 * released, so the failed invocation (Lambda's retry, then the DLQ) or the next poll runs it again.
 */
export function eventBudget(context: LambdaContext, settings: BudgetSettings, now: number): TriggerBudget {
  return {
    retryUntil: now + waitWithin(context, settings.retryWindowMs),
    firstAttemptAt: now,
    attempt: 0,
    whenBusy: 'release',
  };
}

/** A deferred trigger from the retry queue: one GoCD attempt, then queued again until its window since the first is over. */
export function queuedTriggerBudget(deferral: { firstAttemptAt: number; attempt: number }, now: number): TriggerBudget {
  return { retryUntil: now, firstAttemptAt: deferral.firstAttemptAt, attempt: deferral.attempt, whenBusy: 'defer' };
}

/** A deferred create-agent from the retry queue: up to QUEUED_LAUNCH_WAIT_MS for ECS, and which deferral it is. */
export function queuedLaunchBudget(
  deferral: { firstAttemptAt: number; attempt: number },
  context: LambdaContext,
  now: number,
): LaunchBudget {
  return {
    deadline: now + waitWithin(context, QUEUED_LAUNCH_WAIT_MS),
    deferral: { firstAttemptAt: deferral.firstAttemptAt, attempt: deferral.attempt },
  };
}
