import type { RegistryConfig } from '../config/config.schema.js';
import type { Logger } from '../logger.js';
import type { ParseResult } from './image-pushed.js';
import { NO_TRIGGER_METRICS, type TriggerMetrics } from './trigger-metrics.js';
import type { SubmitResult, TriggerBudget, TriggerRecord, TriggerService } from './trigger-service.js';

/** A delivery whose sender was authenticated (or needs none: EventBridge's own events), ready to be parsed. */
export interface Delivery {
  registry: Readonly<RegistryConfig>;
  body: unknown;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The exact bytes received, where there were any (content ids, signatures). */
  rawBody?: Buffer;
}

/** What a delivery amounted to: the counts a webhook answers with. */
export interface RegistryAck {
  accepted: number;
  duplicates: number;
  unsubscribed: number;
  ignored: string[];
}

/** The outcome of one accepted delivery. */
export interface DeliveryOutcome {
  ack: RegistryAck;
  /** Settles when every trigger it started has ended (never rejects). */
  done: Promise<TriggerRecord[]>;
}

/**
 * Accepting a registry delivery, whatever brought it (`POST /registry/{name}`, an EventBridge event in the Lambda):
 * the authentication result in, then parse, dedupe and trigger, and count every outcome the same way on every path
 * (`registryEvent`: triggered, duplicate, unmatched, ignored, rejected).
 */
export class RegistryDeliveries {
  private readonly metrics: TriggerMetrics;
  /**
   * The parsers (and their payload validators), loaded with the first delivery: a process or Lambda container that
   * only ever answers GoCD does not load them.
   */
  private parsers: Promise<typeof import('./parsers/registry-parsers.js')['PARSERS']> | undefined;

  constructor(
    private readonly triggers: TriggerService,
    metrics: TriggerMetrics = NO_TRIGGER_METRICS,
  ) {
    this.metrics = metrics;
  }

  /**
   * A delivery refused before it was parsed (its sender failed authentication, or names no configured registry:
   * `type` undefined, counted under one `unknown` source so probing shows up without a label per guessed name).
   */
  refused(type: string | undefined): void {
    this.metrics.registryEvent(type ?? 'unknown', 'rejected');
  }

  /**
   * Parses an authenticated delivery and submits its pushes; test notifications go to the trigger report. Throws the
   * parser's ValidationError for a body that is not the registry's (counted as rejected), and rejects when the store
   * cannot take a claim (nothing counted: the sender delivers again). `budget`: how its triggers may wait for GoCD.
   */
  async accept(
    delivery: Delivery,
    logger: Pick<Logger, 'info' | 'debug'>,
    budget?: TriggerBudget,
  ): Promise<DeliveryOutcome> {
    const { registry } = delivery;
    this.parsers ??= import('./parsers/registry-parsers.js').then((m) => m.PARSERS);
    const parsers = await this.parsers;
    let parsed: ParseResult;
    try {
      parsed = parsers[registry.type]({
        body: delivery.body,
        headers: delivery.headers,
        rawBody: delivery.rawBody,
        registry,
      });
    } catch (err) {
      this.metrics.registryEvent(registry.type, 'rejected');
      throw err;
    }
    const submitted: SubmitResult[] = [];
    for (const push of parsed.pushes) {
      const result = await this.triggers.submit(push, 'webhook', budget);
      if (result.reason) logger.info({ registry: registry.name, status: result.status }, result.reason);
      submitted.push(result);
    }
    for (const test of parsed.tests ?? []) this.triggers.recordTest(test, 'webhook');
    const ack: RegistryAck = {
      accepted: submitted.filter((s) => s.status === 'accepted').length,
      duplicates: submitted.filter((s) => s.status === 'duplicate').length,
      unsubscribed: submitted.filter((s) => s.status === 'unsubscribed').length,
      ignored: [
        ...parsed.ignored,
        ...submitted.flatMap((s) => (s.status === 'not-found' && s.reason ? [s.reason] : [])),
      ],
    };
    const m = this.metrics;
    if (ack.accepted) m.registryEvent(registry.type, 'triggered', ack.accepted);
    if (ack.duplicates) m.registryEvent(registry.type, 'duplicate', ack.duplicates);
    if (ack.unsubscribed) m.registryEvent(registry.type, 'unmatched', ack.unsubscribed);
    if (ack.ignored.length) m.registryEvent(registry.type, 'ignored', ack.ignored.length);
    logger.debug({ registry: registry.name, ...ack, ignored: parsed.ignored.length }, 'registry event received');
    return { ack, done: Promise.all(submitted.map((s) => s.done)).then((r) => r.flat()) };
  }
}
