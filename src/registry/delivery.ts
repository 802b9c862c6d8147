import type { RegistryConfig } from '../config/config.schema.js';
import type { Logger } from '../logger.js';
import { imageName, type ParseResult } from './image-pushed.js';
import { NO_TRIGGER_METRICS, type TriggerMetrics } from './trigger-metrics.js';
import type { PipelineAnswer, SubmitResult, TriggerBudget, TriggerRecord, TriggerService } from './trigger-service.js';

/** A delivery whose sender was authenticated (or needs none: EventBridge's own events), ready to be parsed. */
export interface Delivery {
  registry: Readonly<RegistryConfig>;
  body: unknown;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The exact bytes received, where there were any (content ids, signatures). */
  rawBody?: Buffer;
}

/** What a delivery did for one subscribed pipeline of one push (the webhook's answer lists each). */
export interface PipelineResult {
  image: string;
  tag: string;
  digest?: string;
  pipeline: string;
  outcome: PipelineAnswer;
}

/**
 * What a delivery amounted to, as the webhook answers it: per push, `accepted` when it triggered (or may yet trigger:
 * `pending`) a pipeline, `duplicates` when it triggered nothing new (a redelivery, or a digest that already
 * triggered every subscribed pipeline); and what happened for each pipeline.
 */
export interface RegistryAck {
  accepted: number;
  duplicates: number;
  unsubscribed: number;
  ignored: string[];
  pipelines: PipelineResult[];
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
    const pipelines: PipelineResult[] = [];
    for (const push of parsed.pushes) {
      const result = await this.triggers.submit(push, 'webhook', budget);
      if (result.reason) logger.info({ registry: registry.name, status: result.status }, result.reason);
      submitted.push(result);
      const digest = result.digest ?? push.digest;
      const what = { image: imageName(push), tag: push.tag, ...(digest ? { digest } : {}) };
      for (const p of result.pipelines) pipelines.push({ ...what, pipeline: p.pipeline, outcome: p.outcome });
    }
    for (const test of parsed.tests ?? []) this.triggers.recordTest(test, 'webhook');
    // A push counts as accepted only when it triggered (or may yet trigger) a pipeline; one whose digest already
    // triggered every subscribed pipeline is a duplicate, as a redelivery is.
    const triggers = (s: SubmitResult) => s.pipelines.some((p) => p.outcome !== 'duplicate');
    const ack: RegistryAck = {
      // Stryker disable next-line ConditionalExpression: a submission not accepted lists no pipelines (unsubscribed, not-found) or only duplicate ones (TriggerService.submit), so triggers(s) is false for it anyway
      accepted: submitted.filter((s) => s.status === 'accepted' && triggers(s)).length,
      duplicates: submitted.filter((s) => s.status === 'duplicate' || (s.status === 'accepted' && !triggers(s))).length,
      unsubscribed: submitted.filter((s) => s.status === 'unsubscribed').length,
      ignored: [
        ...parsed.ignored,
        ...submitted.flatMap((s) => (s.status === 'not-found' && s.reason ? [s.reason] : [])),
      ],
      pipelines,
    };
    const m = this.metrics;
    if (ack.accepted) m.registryEvent(registry.type, 'triggered', ack.accepted);
    if (ack.duplicates) m.registryEvent(registry.type, 'duplicate', ack.duplicates);
    if (ack.unsubscribed) m.registryEvent(registry.type, 'unmatched', ack.unsubscribed);
    if (ack.ignored.length) m.registryEvent(registry.type, 'ignored', ack.ignored.length);
    logger.debug(
      { registry: registry.name, ...ack, ignored: parsed.ignored.length, pipelines: pipelines.length },
      'registry event received',
    );
    return { ack, done: Promise.all(submitted.map((s) => s.done)).then((r) => r.flat()) };
  }
}
