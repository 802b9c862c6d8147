import type { Config } from '../config/config.schema.js';
import { ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RegistryServices } from '../main/registry-composition.js';
import { imageName } from '../registry/image-pushed.js';
import { PARSERS } from '../registry/parsers/registry-parsers.js';
import type { TriggerRecord } from '../registry/trigger-service.js';
import { parseDeferredTrigger } from './deferred-trigger.js';
import { type InvocationScope, runInScope } from './invocation-scope.js';
import type { EventBridgeEvent, LambdaContext } from './lambda-events.js';
import type { LambdaRoutes } from './lambda-handler.js';

/** Thrown to fail an invocation on purpose, so Lambda (async) or SQS delivers the work again. */
export class RetryLaterError extends Error {}

const ECR_OUTCOME = {
  accepted: 'triggered',
  duplicate: 'duplicate',
  unsubscribed: 'unmatched',
  'not-found': 'ignored',
} as const;

/** Time kept back from the invocation's remaining time for settling keys and answering. */
const MARGIN_MS = 15_000;

export interface RegistryInvocationOptions {
  config: Readonly<Config>;
  registry: RegistryServices;
  logger: Logger;
  now?: () => number;
}

/**
 * The non-HTTP registry work of the Lambda: ECR pushes from EventBridge and the backstop schedule (both through the
 * same parser and trigger service as `POST /registry/<name>`), and deferred triggers from the retry queue.
 */
export function registryInvocations(
  options: RegistryInvocationOptions,
): Required<Pick<LambdaRoutes, 'ecr' | 'schedule' | 'queued'>> {
  const { config, registry, logger } = options;
  const now = options.now ?? Date.now;
  const window = config.gocd.scheduleRetryWindowSeconds * 1000;
  const waitingScope = (kind: 'event' | 'schedule', context: LambdaContext): InvocationScope => {
    const remaining = context.getRemainingTimeInMillis?.() ?? window + MARGIN_MS;
    const t = now();
    return {
      kind,
      retryUntil: t + Math.max(0, Math.min(window, remaining - MARGIN_MS)),
      firstAttemptAt: t,
      attempt: 0,
    };
  };

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
    const records: TriggerRecord[] = [];
    await runInScope(waitingScope('event', context), async () => {
      for (const entry of entries) {
        let pushes: ReturnType<(typeof PARSERS)['ecr']>;
        try {
          pushes = PARSERS.ecr({ body: event, headers: {}, registry: entry });
        } catch (err) {
          // A malformed event fails the same way on every retry: report it, do not retry it.
          if (err instanceof ValidationError) {
            log.error({ err, registry: entry.name }, 'ECR event not understood; ignored');
            continue;
          }
          throw err;
        }
        if (pushes.ignored.length > 0)
          log.debug({ registry: entry.name, ignored: pushes.ignored }, 'ECR event ignored');
        for (const push of pushes.pushes) {
          const submitted = await registry.triggers.submit(push, 'webhook');
          // Counted as `POST /registry/<name>` counts them.
          registry.metrics.registryEvent('ecr', ECR_OUTCOME[submitted.status]);
          if (submitted.reason) log.info({ registry: entry.name, status: submitted.status }, submitted.reason);
          records.push(...(await submitted.done));
        }
      }
    });
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
    const report = await runInScope(waitingScope('schedule', context), async () => {
      const r = await registry.poller.pollOnce();
      await registry.triggers.idle();
      return r;
    });
    logger.info({ ...report, skipped: report.skipped.length }, 'backstop poll done');
  };

  const queued = async (body: unknown): Promise<void> => {
    const deferred = parseDeferredTrigger(body);
    if (!deferred)
      throw new RetryLaterError('retry-queue message is neither a deferred trigger nor an EventBridge event');
    const t = now();
    const scope: InvocationScope = {
      kind: 'queue',
      retryUntil: t,
      firstAttemptAt: deferred.firstAttemptAt,
      attempt: deferred.attempt,
    };
    const record = await runInScope(scope, () => registry.triggers.retry(deferred.push, deferred.pipeline, 'webhook'));
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
