import type { RegistryConfig } from '../config/config.schema.js';
import type { Logger } from '../logger.js';
import type { KeyValueStore } from '../store/store.port.js';
import type { TagSource } from './digest-resolver.js';
import { type CompiledSubscription, type SubscriptionTable, tagMatches } from './subscriptions.js';
import { seenKey, type TriggerService } from './trigger-service.js';

/** What one poll round did. */
export interface PollReport {
  images: number;
  /** Tags seen for the first time: their digest became the baseline, nothing was scheduled. */
  baselines: number;
  /** Tags whose digest moved since the last sight: submitted as pushes. */
  changed: number;
  /** Why some subscriptions were not polled (glob images, no API access). */
  skipped: string[];
  errors: number;
}

export interface BackstopPollerOptions {
  subscriptions: SubscriptionTable;
  registries: readonly Pick<RegistryConfig, 'name' | 'host'>[];
  tagSources: (registry: string) => TagSource | undefined;
  triggers: Pick<TriggerService, 'submit'>;
  store: KeyValueStore;
  logger: Logger;
  /** `poll.intervalSeconds`; 0 = off. */
  intervalSeconds: number;
  ttlDays: number;
  /** Tags per image whose digest is read in one round (default 100). */
  maxTagsPerImage?: number;
}

/**
 * The backstop for dropped webhooks (distribution loses its in-memory queue on restart, EventBridge and GitHub give up
 * eventually): every interval, for each subscribed image, list the matching tags with their digests and compare them
 * with the last digest seen. First sight records a baseline; a moved digest is submitted like a push, so the trigger
 * service's dedupe makes a webhook and the poll schedule a pipeline once between them.
 */
export class BackstopPoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PollReport> | undefined;

  constructor(private readonly options: BackstopPollerOptions) {}

  /** Starts polling every `intervalSeconds` (no-op when 0). */
  start(): void {
    if (this.options.intervalSeconds <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      // Skip a tick while the previous round still runs (a slow registry must not stack rounds).
      if (!this.running) void this.pollOnce().catch(() => undefined);
    }, this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer and waits for a running round. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One round over every pollable subscription. */
  pollOnce(): Promise<PollReport> {
    if (!this.running) {
      this.running = this.round().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async round(): Promise<PollReport> {
    const { logger } = this.options;
    const report: PollReport = { images: 0, baselines: 0, changed: 0, skipped: [], errors: 0 };
    const byImage = new Map<string, CompiledSubscription[]>();
    for (const s of this.options.subscriptions.subscriptions) {
      if (s.isGlob) {
        report.skipped.push(`${s.image}: glob images cannot be polled (tags are listed per repository)`);
        continue;
      }
      byImage.set(s.image, [...(byImage.get(s.image) ?? []), s]);
    }
    for (const [image, subs] of byImage) {
      const registry = this.options.registries.find(
        (r) => image.startsWith(`${r.host}/`) && this.options.tagSources(r.name),
      );
      if (!registry) {
        report.skipped.push(`${image}: no registry entry with API access (apiUrl, or type ecr) for its host`);
        continue;
      }
      report.images++;
      try {
        await this.pollImage(image, registry, subs, report);
      } catch (err) {
        report.errors++;
        logger.warn({ err, image, registry: registry.name }, 'backstop poll of an image failed; next round retries');
      }
    }
    logger.debug({ ...report, skipped: report.skipped.length }, 'backstop poll round done');
    return report;
  }

  private async pollImage(
    image: string,
    registry: Pick<RegistryConfig, 'name' | 'host'>,
    subs: CompiledSubscription[],
    report: PollReport,
  ): Promise<void> {
    const { store, triggers, logger } = this.options;
    const source = this.options.tagSources(registry.name)!;
    const repository = image.slice(registry.host.length + 1);
    const max = this.options.maxTagsPerImage ?? 100;
    const { tags, truncated } = await source.listTagDigests(
      repository,
      (tag) => subs.some((s) => tagMatches(s, tag)),
      max,
    );
    if (truncated) logger.warn({ image, max }, 'more matching tags than one poll round reads; narrow the tag regex');
    for (const [tag, digest] of tags) {
      const key = seenKey(image, tag);
      const last = await store.get(key);
      if (last === undefined) {
        await store.put(key, digest, this.options.ttlDays * 86_400);
        report.baselines++;
        continue;
      }
      if (last === digest) continue;
      report.changed++;
      logger.info({ image, tag, digest, previous: last }, 'backstop poll found a moved tag');
      // The trigger service records the new digest as seen once its triggers ended (not when released).
      const submitted = await triggers.submit(
        {
          registry: registry.name,
          host: registry.host,
          repository,
          tag,
          digest,
          deliveryId: `poll|${image}:${tag}@${digest}`,
        },
        'poll',
      );
      // Already triggered for this digest (a tag moved back within the dedupe window): just move the baseline.
      if (submitted.status !== 'accepted') await store.put(key, digest, this.options.ttlDays * 86_400);
    }
  }
}
