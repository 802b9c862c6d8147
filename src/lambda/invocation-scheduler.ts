import {
  GocdScheduleClient,
  type GocdScheduleClientOptions,
  type ScheduleOutcome,
  type ScheduleVariable,
} from '../gocd-api/gocd-schedule-client.js';
import type { PipelineScheduler } from '../registry/trigger-service.js';
import { currentScope } from './invocation-scope.js';

/** GoCD client settings without the retry window, which each invocation sets for itself. */
export type InvocationSchedulerOptions = Omit<GocdScheduleClientOptions, 'retryWindowMs'>;

/** Per-attempt timeout of a webhook's attempt: senders such as GitHub give up after 10 s. */
const HTTP_ATTEMPT_TIMEOUT_MS = 5_000;

/**
 * GoCD scheduling inside a Lambda invocation: retries 409/5xx only as long as the invocation may wait (its scope's
 * `retryUntil`). Then a webhook's or a queued trigger's failure stays "retryable, window exhausted", which the trigger
 * service hands to the deferrer (the retry queue); an EventBridge or schedule invocation's becomes "aborted", which
 * releases the claim, so the failed invocation (Lambda's retry, then the DLQ) or the next poll retries it.
 */
export class InvocationScheduler implements PipelineScheduler {
  constructor(
    private readonly options: InvocationSchedulerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async schedule(
    pipeline: string,
    variables: readonly ScheduleVariable[],
    signal?: AbortSignal,
  ): Promise<ScheduleOutcome> {
    const scope = currentScope();
    const kind = scope?.kind ?? 'http';
    const windowMs = Math.max(0, (scope?.retryUntil ?? 0) - this.now());
    const client = new GocdScheduleClient({
      ...this.options,
      retryWindowMs: windowMs,
      // No window: exactly one attempt (a jittered first backoff can be ~0 ms and would squeeze in another).
      ...(windowMs === 0 ? { maxAttempts: 1 } : {}),
      ...(kind === 'http'
        ? { attemptTimeoutMs: Math.min(this.options.attemptTimeoutMs ?? 10_000, HTTP_ATTEMPT_TIMEOUT_MS) }
        : {}),
    });
    const outcome = await client.schedule(pipeline, variables, signal);
    if (outcome.kind === 'failed' && outcome.windowExhausted && (kind === 'event' || kind === 'schedule')) {
      return { kind: 'aborted', attempts: outcome.attempts, message: `GoCD still busy: ${outcome.message}` };
    }
    return outcome;
  }
}
