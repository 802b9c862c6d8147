import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ScheduleOutcome } from '../gocd-api/gocd-schedule-client.js';
import type { ImagePushed } from '../registry/image-pushed.js';
import type { TriggerDeferrer } from '../registry/trigger-service.js';
import { currentScope } from './invocation-scope.js';

/** Message type tag of a deferred trigger on the retry queue. */
export const DEFERRED_TRIGGER_TYPE = 'gocd-agent-scaler/deferred-trigger';

/** The retry-queue message: one (push, pipeline) trigger GoCD could not take yet. */
export interface DeferredTrigger {
  type: typeof DEFERRED_TRIGGER_TYPE;
  push: ImagePushed;
  pipeline: string;
  /** Epoch ms of the first attempt: the overall retry window counts from here. */
  firstAttemptAt: number;
  /** 1 for the first deferral. */
  attempt: number;
}

/** SQS's upper bound on `DelaySeconds`. */
const MAX_DELAY_SECONDS = 900;
/** First delay; doubles per deferral (30 s, 1 min, 2 min, … 15 min). */
const FIRST_DELAY_SECONDS = 30;

/** The message's delay: exponential per attempt, never past the retry window's end nor SQS's 15 minutes. */
export function deferralDelaySeconds(attempt: number, remainingMs: number): number {
  const exponential = FIRST_DELAY_SECONDS * 2 ** Math.min(10, Math.max(0, attempt - 1));
  return Math.max(1, Math.min(MAX_DELAY_SECONDS, exponential, Math.ceil(remainingMs / 1000)));
}

function isString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/** The deferred trigger a message body holds, or undefined when it is something else. */
export function parseDeferredTrigger(body: unknown): DeferredTrigger | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const m = body as Partial<DeferredTrigger>;
  const p = m.push as Partial<ImagePushed> | undefined;
  if (m.type !== DEFERRED_TRIGGER_TYPE || !isString(m.pipeline) || !p) return undefined;
  if (![p.registry, p.host, p.repository, p.tag, p.deliveryId].every(isString)) return undefined;
  if (typeof m.firstAttemptAt !== 'number' || typeof m.attempt !== 'number') return undefined;
  return m as DeferredTrigger;
}

export interface SqsTriggerDeferrerOptions {
  /** Built once per container by the Lambda composition. */
  client: SQSClient;
  queueUrl: string;
  /** `gocd.scheduleRetryWindowSeconds`: how long after its first attempt a trigger is still deferred. */
  windowSeconds: number;
  now?: () => number;
}

/**
 * Defers busy-GoCD triggers to the SQS retry queue with a growing `DelaySeconds`; the same function consumes the
 * queue and runs each through `TriggerService.retry`. SendMessage resolving means SQS stored the message, so the
 * trigger outlives this invocation; once the window since the first attempt is over it answers false and the trigger
 * is reported failed.
 */
export class SqsTriggerDeferrer implements TriggerDeferrer {
  private readonly now: () => number;

  constructor(private readonly options: SqsTriggerDeferrerOptions) {
    this.now = options.now ?? Date.now;
  }

  async defer(push: ImagePushed, pipeline: string, _outcome: ScheduleOutcome): Promise<boolean> {
    const scope = currentScope();
    const now = this.now();
    const firstAttemptAt = scope?.firstAttemptAt ?? now;
    const remainingMs = firstAttemptAt + this.options.windowSeconds * 1000 - now;
    if (remainingMs <= 0) return false;
    const message: DeferredTrigger = {
      type: DEFERRED_TRIGGER_TYPE,
      push,
      pipeline,
      firstAttemptAt,
      attempt: (scope?.attempt ?? 0) + 1,
    };
    await this.options.client.send(
      new SendMessageCommand({
        QueueUrl: this.options.queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: deferralDelaySeconds(message.attempt, remainingMs),
      }),
    );
    return true;
  }
}
