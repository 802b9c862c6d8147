/**
 * The Lambda event shapes this function receives, reduced to the fields it reads (the full types live in
 * `@types/aws-lambda`; these stay structural so tests can build real captured payloads verbatim).
 */

/** Function URL / API Gateway HTTP API payload format 2.0 (the same schema for both). */
export interface HttpEventV2 {
  version: '2.0';
  routeKey?: string;
  rawPath: string;
  rawQueryString?: string;
  headers?: Record<string, string>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: { requestId?: string; http: { method: string; path?: string; sourceIp?: string } };
}

/** The HTTP answer in payload format 2.0. */
export interface HttpResultV2 {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
  cookies?: string[];
}

/** An EventBridge event as a Lambda target receives it (no HTTP wrapper). */
export interface EventBridgeEvent<D = Record<string, unknown>> {
  version?: string;
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time?: string;
  region: string;
  resources?: string[];
  detail: D;
}

/** One SQS message of an event source mapping batch. */
export interface SqsRecord {
  messageId: string;
  body: string;
  eventSource: 'aws:sqs';
  eventSourceARN?: string;
  attributes?: { ApproximateReceiveCount?: string; [key: string]: string | undefined };
}

/** An SQS event source mapping batch. */
export interface SqsEvent {
  Records: SqsRecord[];
}

/** The partial-batch answer: only the listed messages return to the queue (`ReportBatchItemFailures`). */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** The subset of the Lambda context the handler uses. */
export interface LambdaContext {
  awsRequestId?: string;
  getRemainingTimeInMillis?: () => number;
  callbackWaitsForEmptyEventLoop?: boolean;
}

/** What kind of invocation an event is. */
export type LambdaEventKind =
  | { kind: 'http'; event: HttpEventV2 }
  | { kind: 'ecr'; event: EventBridgeEvent }
  | { kind: 'schedule'; event: EventBridgeEvent }
  | { kind: 'sqs'; event: SqsEvent }
  | { kind: 'unknown'; description: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Tells the invocation kind from the event's own shape (Lambda passes no other hint). */
export function classifyEvent(event: unknown): LambdaEventKind {
  if (!isObject(event)) return { kind: 'unknown', description: typeof event };
  const rc = event.requestContext;
  if (isObject(rc) && isObject(rc.http) && typeof event.rawPath === 'string') {
    return { kind: 'http', event: event as unknown as HttpEventV2 };
  }
  if (Array.isArray(event.Records) && event.Records.length > 0) {
    const first = event.Records[0] as Record<string, unknown> | undefined;
    if (first?.eventSource === 'aws:sqs') return { kind: 'sqs', event: event as unknown as SqsEvent };
    return { kind: 'unknown', description: `Records from ${String(first?.eventSource)}` };
  }
  if (typeof event.source === 'string' && typeof event['detail-type'] === 'string') {
    const eb = event as unknown as EventBridgeEvent;
    if (eb.source === 'aws.ecr') return { kind: 'ecr', event: eb };
    if (eb.source === 'aws.events' && eb['detail-type'] === 'Scheduled Event') return { kind: 'schedule', event: eb };
    return { kind: 'unknown', description: `EventBridge ${eb.source} ${eb['detail-type']}` };
  }
  return { kind: 'unknown', description: `object with keys ${Object.keys(event).slice(0, 8).join(',')}` };
}
