import type { Config } from '../config/config.schema.js';
import { ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { BackstopPoller } from '../registry/backstop-poller.js';
import type { RegistryDeliveries } from '../registry/delivery.js';
import { imageName } from '../registry/image-pushed.js';
import type { TriggerRecord, TriggerService } from '../registry/trigger-service.js';
import { parseDeferredTrigger } from './deferred-trigger.js';
import { type BudgetSettings, eventBudget, queuedTriggerBudget } from './invocation-budget.js';
import type { EventBridgeEvent, LambdaContext } from './lambda-events.js';
import type { LambdaRoutes } from './lambda-handler.js';

/** Thrown to fail an invocation on purpose, so Lambda (async) or SQS delivers the work again. */
export class RetryLaterError extends Error {}

export interface RegistryInvocationOptions {
  config: Readonly<Config>;
  registry: { deliveries: RegistryDeliveries; triggers: TriggerService; poller: BackstopPoller };
  /** The config's retry window and whether a retry queue exists. */
  settings: BudgetSettings;
  logger: Logger;
  now?: () => number;
}

/**
 * The non-HTTP registry work of the Lambda: ECR pushes from EventBridge (accepted like `POST /registry/<name>`, by the
 * same delivery use case, so they count alike), the backstop schedule, and deferred triggers from the retry queue.
 */
export function registryInvocations(
  options: RegistryInvocationOptions,
): Required<Pick<LambdaRoutes, 'ecr' | 'schedule' | 'queued'>> {
  const { config, registry, logger, settings } = options;
  const now = options.now ?? Date.now;

  const ecr = async (event: EventBridgeEvent, context: LambdaContext): Promise<void> => {
    const entries = config.registries.filter((r) => r.type === 'ecr');
    const log = logger.child({ eventId: event.id, requestId: context.awsRequestId });
    if (entries.length === 0) {
      log.warn(
        { account: event.account, region: event.region },
        'ECR event but no ecr registry is configured; ignored',
      );
      return;
    }
    // EventBridge's own events need no authentication: AWS delivers them to this function only.
    const budget = eventBudget(context, settings, now());
    const records: TriggerRecord[] = [];
    for (const entry of entries) {
      try {
        const { done } = await registry.deliveries.accept({ registry: entry, body: event, headers: {} }, log, budget);
        records.push(...(await done));
      } catch (err) {
        // A malformed event fails the same way on every retry: report it, do not retry it.
        if (!(err instanceof ValidationError)) throw err;
        log.error({ err, registry: entry.name }, 'ECR event not understood; ignored');
      }
    }
    const released = records.filter((r) => r.outcome === 'released');
    if (released.length > 0) {
      // Released claims let the retry run them again; the pipelines already scheduled are duplicates by then.
      throw new RetryLaterError(
        `${released.length} trigger(s) not scheduled yet (${released.map((r) => r.pipeline).join(', ')}); Lambda retries the event`,
      );
    }
  };

  const schedule = async (_event: EventBridgeEvent, context: LambdaContext): Promise<void> => {
    // A released trigger keeps the poll's baseline unmoved, so the next scheduled round finds it again.
    const report = await registry.poller.pollOnce(eventBudget(context, settings, now()));
    await registry.triggers.idle();
    logger.info({ ...report, skipped: report.skipped.length }, 'backstop poll done');
  };

  const queued = async (body: unknown): Promise<void> => {
    const deferred = parseDeferredTrigger(body);
    if (!deferred)
      throw new RetryLaterError('retry-queue message is neither a deferred trigger nor an EventBridge event');
    const budget = queuedTriggerBudget(deferred, now());
    const record = await registry.triggers.retry(deferred.push, deferred.pipeline, 'webhook', budget);
    logger.info(
      {
        pipeline: record.pipeline,
        image: imageName(deferred.push),
        tag: deferred.push.tag,
        outcome: record.outcome,
        attempt: deferred.attempt,
      },
      'deferred trigger retried',
    );
    if (record.outcome === 'released')
      throw new RetryLaterError(`trigger of ${record.pipeline} released: ${record.message ?? ''}`);
  };

  return { ecr, schedule, queued };
}
