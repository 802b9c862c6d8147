import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { LaunchDeferrer } from '../agents/agent-service.js';
import type { CreateAgentCommand, LaunchBudget } from '../agents/commands.js';
import {
  DEFERRED_LAUNCH_TYPE,
  DEFERRED_LAUNCH_WINDOW_MS,
  type DeferredLaunch,
  deferredLaunchDelaySeconds,
} from './deferred-launch.js';

export interface SqsLaunchDeferrerOptions {
  /** Built once per container by the Lambda composition. */
  client: SQSClient;
  queueUrl: string;
  now?: () => number;
}

/**
 * Defers a create-agent that ECS throttled to the SQS retry queue (a message consumed by the same function a few
 * seconds later). SendMessage resolving means SQS stored it, so the launch outlives this invocation. A launch already
 * deferred for `DEFERRED_LAUNCH_WINDOW_MS` is not queued again: the job waits for GoCD's next create-agent.
 */
export class SqsLaunchDeferrer implements LaunchDeferrer {
  private readonly now: () => number;

  constructor(private readonly options: SqsLaunchDeferrerOptions) {
    this.now = options.now ?? Date.now;
  }

  async defer(command: CreateAgentCommand, budget: LaunchBudget): Promise<boolean> {
    const now = this.now();
    const firstAttemptAt = budget.deferral?.firstAttemptAt ?? now;
    if (now - firstAttemptAt >= DEFERRED_LAUNCH_WINDOW_MS) return false;
    // The create-agent as GoCD sent it: read again at the edge (src/gocd/commands.ts) when it runs.
    const message: DeferredLaunch = {
      type: DEFERRED_LAUNCH_TYPE,
      input: {
        autoRegisterKey: command.autoRegisterKey,
        ...(command.environment ? { environment: command.environment } : {}),
        job: command.job,
        clusterProperties: command.sent.clusterProperties,
        profileProperties: command.sent.profileProperties,
      },
      firstAttemptAt,
      attempt: (budget.deferral?.attempt ?? 0) + 1,
    };
    await this.options.client.send(
      new SendMessageCommand({
        QueueUrl: this.options.queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: deferredLaunchDelaySeconds(message.attempt),
      }),
    );
    return true;
  }
}
