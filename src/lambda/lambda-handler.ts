import type { Logger } from '../logger.js';
import {
  classifyEvent,
  type EventBridgeEvent,
  type HttpEventV2,
  type HttpResultV2,
  type LambdaContext,
  type SqsBatchResponse,
  type SqsRecord,
} from './lambda-events.js';

/** What each kind of invocation is handed to; built once per container by `src/main/lambda.ts`. */
export interface LambdaRoutes {
  /** Function URL / HTTP API events: the Fastify app through `@fastify/aws-lambda`. */
  http: (event: HttpEventV2, context: LambdaContext) => Promise<HttpResultV2>;
  /** An `aws.ecr` event; rejects while a trigger could not be scheduled, so Lambda retries it (then the DLQ). */
  ecr?: (event: EventBridgeEvent, context: LambdaContext) => Promise<void>;
  /** The EventBridge schedule: one backstop poll. */
  schedule?: (event: EventBridgeEvent, context: LambdaContext) => Promise<void>;
  /** One message of the retry queue (a deferred trigger); rejects to leave it for the queue's next delivery. */
  queued?: (body: unknown, record: SqsRecord, context: LambdaContext) => Promise<void>;
}

/** The answer to an event that is not an HTTP request. */
export interface EventResult {
  handled: string;
}

/** `JSON.parse` that answers undefined instead of throwing. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The body of a retry-queue message, unwrapped: the DLQ can be redriven into the retry queue, and it holds either
 * Lambda's on-failure record (`{requestContext, requestPayload, …}`) or EventBridge's undeliverable event verbatim,
 * so both are turned back into the original EventBridge event.
 */
export function unwrapQueuedBody(body: unknown): unknown {
  if (body && typeof body === 'object' && 'requestPayload' in body && 'requestContext' in body) {
    return (body as { requestPayload: unknown }).requestPayload;
  }
  return body;
}

/** Builds the one Lambda handler: classifies the event and dispatches it to its route. */
export function createLambdaHandler(routes: LambdaRoutes, logger: Logger) {
  const onEventBridge = async (event: unknown, context: LambdaContext): Promise<string> => {
    const c = classifyEvent(event);
    if (c.kind === 'ecr' && routes.ecr) {
      await routes.ecr(c.event, context);
      return 'ecr';
    }
    if (c.kind === 'schedule' && routes.schedule) {
      await routes.schedule(c.event, context);
      return 'schedule';
    }
    // Not retried: an event nobody handles would fail the same way on every retry and only fill the DLQ.
    logger.error({ event: c.kind === 'unknown' ? c.description : c.kind }, 'Lambda event not handled; ignored');
    return 'ignored';
  };

  const onRecord = async (record: SqsRecord, context: LambdaContext): Promise<void> => {
    const body = unwrapQueuedBody(parseJson(record.body));
    const c = classifyEvent(body);
    if (c.kind === 'ecr' || c.kind === 'schedule') {
      await onEventBridge(body, context);
      return;
    }
    if (!routes.queued) throw new Error('no consumer for retry-queue messages in this deployment');
    await routes.queued(body, record, context);
  };

  return async (
    event: unknown,
    context: LambdaContext = {},
  ): Promise<HttpResultV2 | SqsBatchResponse | EventResult> => {
    const c = classifyEvent(event);
    switch (c.kind) {
      case 'http':
        return routes.http(c.event, context);
      case 'sqs': {
        // Partial batch answer: only the messages that failed go back to the queue (and, after maxReceiveCount,
        // to the DLQ); the rest of the batch is deleted. Sequential, so one batch never floods GoCD.
        const batchItemFailures: { itemIdentifier: string }[] = [];
        for (const record of c.event.Records) {
          try {
            await onRecord(record, context);
          } catch (err) {
            logger.warn(
              { err, messageId: record.messageId, receiveCount: record.attributes?.ApproximateReceiveCount },
              'retry-queue message not done; it returns to the queue',
            );
            batchItemFailures.push({ itemIdentifier: record.messageId });
          }
        }
        return { batchItemFailures };
      }
      case 'ecr':
      case 'schedule':
      case 'unknown':
        return { handled: await onEventBridge(event, context) };
    }
  };
}
