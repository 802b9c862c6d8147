import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ScheduleOutcome } from '../gocd-api/gocd-schedule-client.js';
import type { ImagePushed } from '../registry/image-pushed.js';
import type { TriggerBudget, TriggerDeferrer } from '../registry/trigger-service.js';
import { DEFERRED_TRIGGER_TYPE, type DeferredTrigger, deferralDelaySeconds } from './deferred-trigger.js';

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

  async defer(push: ImagePushed, pipeline: string, _outcome: ScheduleOutcome, budget: TriggerBudget): Promise<boolean> {
    const now = this.now();
    const firstAttemptAt = budget.firstAttemptAt;
    const remainingMs = firstAttemptAt + this.options.windowSeconds * 1000 - now;
    if (remainingMs <= 0) return false;
    const message: DeferredTrigger = {
      type: DEFERRED_TRIGGER_TYPE,
      push,
      pipeline,
      firstAttemptAt,
      attempt: budget.attempt + 1,
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
