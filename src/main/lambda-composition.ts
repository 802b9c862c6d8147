import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LaunchDeferrer } from '../agents/agent-service.js';
import type { Config } from '../config/config.schema.js';
import type { BudgetSettings } from '../lambda/invocation-budget.js';
import type { TriggerDeferrer } from '../registry/trigger-service.js';
import { LazyStore } from '../store/lazy-store.js';
import type { ServiceOptions } from './composition.js';

/** Settings only a Lambda deployment has; read once by the entry point from its environment. */
export interface LambdaSettings {
  /** The SQS queue webhook triggers wait in while GoCD is busy (`SCALER_RETRY_QUEUE_URL`, set by infra/). */
  retryQueueUrl?: string;
}

/** The Lambda-only settings of an environment. */
export function lambdaSettings(env: NodeJS.ProcessEnv): LambdaSettings {
  return env.SCALER_RETRY_QUEUE_URL ? { retryQueueUrl: env.SCALER_RETRY_QUEUE_URL } : {};
}

/** What the invocation budgets need to know of the deployment. */
export function budgetSettings(config: Readonly<Config>, settings: LambdaSettings): BudgetSettings {
  return { retryWindowMs: config.gocd.scheduleRetryWindowSeconds * 1000, retryQueue: !!settings.retryQueueUrl };
}

/** `build()` once, on first use; a failed build is not kept, so the next use tries again. */
function onFirstUse<T>(build: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= build().catch((err: unknown) => {
      value = undefined;
      throw err;
    });
    return value;
  };
}

/**
 * The Lambda's pieces of the composition: no Docker backend (nor its client in the bundle); the store built on first
 * use (most GoCD requests never need it: loading the DynamoDB client at init would make every cold start pay for what
 * only registry events and notices use); and, with a retry queue, the deferrers that park a busy-GoCD trigger or a
 * create-agent ECS throttled (nothing runs after a Lambda's answer), over one SQS client per container, loaded with
 * the SQS module on the first deferral.
 */
export function lambdaServiceOptions(config: Readonly<Config>, settings: LambdaSettings): ServiceOptions {
  const store = new LazyStore(async () => (await import('./store-factory.js')).createStore(config.store));
  const queueUrl = settings.retryQueueUrl;
  if (!queueUrl) return { withDocker: false, processMetrics: false, registry: { store } };
  const sqs = onFirstUse<SQSClient>(async () => new (await import('@aws-sdk/client-sqs')).SQSClient({}));
  const triggers = onFirstUse<TriggerDeferrer>(async () => {
    const { SqsTriggerDeferrer } = await import('../lambda/sqs-trigger-deferrer.js');
    return new SqsTriggerDeferrer({
      client: await sqs(),
      queueUrl,
      windowSeconds: config.gocd.scheduleRetryWindowSeconds,
    });
  });
  const launches = onFirstUse<LaunchDeferrer>(async () => {
    const { SqsLaunchDeferrer } = await import('../lambda/sqs-launch-deferrer.js');
    return new SqsLaunchDeferrer({ client: await sqs(), queueUrl });
  });
  return {
    withDocker: false,
    processMetrics: false,
    registry: {
      store,
      deferrer: {
        defer: async (push, pipeline, outcome, budget) => (await triggers()).defer(push, pipeline, outcome, budget),
      },
    },
    agents: { launchDeferrer: { defer: async (command, budget) => (await launches()).defer(command, budget) } },
  };
}
