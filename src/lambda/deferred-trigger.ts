import { exponentialDelay } from '../backoff.js';
import type { ImagePushed } from '../registry/image-pushed.js';

// The retry-queue message format, apart from the SQS adapter: the consumer needs it at every cold start, the SQS
// client only when a trigger is deferred.

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

/** Deferral delays: 30 s doubling per deferral (1 min, 2 min, …) up to SQS's upper bound on `DelaySeconds`, 15 min. */
const DEFERRAL_BACKOFF = { baseMs: 30_000, capMs: 900_000 };

/** The message's delay: exponential per attempt, never past the retry window's end nor SQS's 15 minutes. */
export function deferralDelaySeconds(attempt: number, remainingMs: number): number {
  return Math.max(1, Math.min(exponentialDelay(DEFERRAL_BACKOFF, attempt) / 1000, Math.ceil(remainingMs / 1000)));
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
