import type { Config } from '../config/config.schema.js';
import type { RegistryServiceOptions } from '../registry/registry-composition.js';
import type { TriggerDeferrer } from '../registry/trigger-service.js';
import { InvocationScheduler } from './invocation-scheduler.js';
import { runInScope } from './invocation-scope.js';
import type { HttpEventV2, HttpResultV2, LambdaContext } from './lambda-events.js';
import { LazyStore } from './lazy-store.js';

/** Settings only a Lambda deployment has; read once by the entry point from its environment. */
export interface LambdaSettings {
  /** The SQS queue webhook triggers wait in while GoCD is busy (`SCALER_RETRY_QUEUE_URL`, set by infra/). */
  retryQueueUrl?: string;
}

/** The Lambda-only settings of an environment. */
export function lambdaSettings(env: NodeJS.ProcessEnv): LambdaSettings {
  return env.SCALER_RETRY_QUEUE_URL ? { retryQueueUrl: env.SCALER_RETRY_QUEUE_URL } : {};
}

/**
 * The registry injection points of the Lambda: the store built on first use (most GoCD requests never need it; the
 * create-agent, server-ping and job-completion notices for GoCD users do), a GoCD
 * scheduler bounded by each invocation's scope, and the SQS deferrer (its client built here, once per container; the
 * SQS module is loaded only when a queue is configured).
 */
export function lambdaRegistryOptions(config: Readonly<Config>, settings: LambdaSettings): RegistryServiceOptions {
  const options: RegistryServiceOptions = {
    store: new LazyStore(async () => (await import('../store/store-factory.js')).createStore(config.store)),
  };
  if (config.gocd.apiUrl) {
    options.scheduler = new InvocationScheduler({ apiUrl: config.gocd.apiUrl, apiToken: config.gocd.apiToken });
  }
  const queueUrl = settings.retryQueueUrl;
  if (queueUrl) {
    // Built on the first deferral, once per container: a cold start does not load the SQS client it may never use.
    let deferrer: Promise<TriggerDeferrer> | undefined;
    const build = async (): Promise<TriggerDeferrer> => {
      const [{ SQSClient }, { SqsTriggerDeferrer }] = await Promise.all([
        import('@aws-sdk/client-sqs'),
        import('./sqs-trigger-deferrer.js'),
      ]);
      return new SqsTriggerDeferrer({
        client: new SQSClient({}),
        queueUrl,
        windowSeconds: config.gocd.scheduleRetryWindowSeconds,
      });
    };
    options.deferrer = {
      defer: async (push, pipeline, outcome) => {
        deferrer ??= build();
        return (await deferrer).defer(push, pipeline, outcome);
      },
    };
  }
  return options;
}

/** Time kept back from the invocation for answering, when a webhook has to wait for GoCD itself. */
const MARGIN_MS = 15_000;

/**
 * Runs each HTTP invocation in an `http` scope. With a retry queue the webhook answers after one GoCD attempt (a busy
 * GoCD defers to the queue); without one it may retry for the config's window, within the invocation's time.
 */
export function withHttpScope(
  http: (event: HttpEventV2, context: LambdaContext) => Promise<HttpResultV2>,
  config: Readonly<Config>,
  settings: LambdaSettings,
  now: () => number = Date.now,
): (event: HttpEventV2, context: LambdaContext) => Promise<HttpResultV2> {
  const window = config.gocd.scheduleRetryWindowSeconds * 1000;
  return (event, context) => {
    const t = now();
    const remaining = context.getRemainingTimeInMillis?.() ?? window + MARGIN_MS;
    const wait = settings.retryQueueUrl ? 0 : Math.max(0, Math.min(window, remaining - MARGIN_MS));
    return runInScope({ kind: 'http', retryUntil: t + wait, firstAttemptAt: t, attempt: 0 }, () =>
      http(event, context),
    );
  };
}
