import type { RegistryConfig } from '../config/config.schema.js';
import type { Logger } from '../logger.js';
import { dedupeKeys } from './dedupe-keys.js';
import type { KeyValueStore } from './store.port.js';
import { type CompiledSubscription, globPrefix, type SubscriptionTable, tagMatches } from './subscriptions.js';
import type { TagSource } from './tag-source.port.js';
import type { TriggerBudget, TriggerService } from './trigger-service.js';

/** What one poll round did. */
export interface PollReport {
  images: number;
  /** Tags seen for the first time: their digest became the baseline, nothing was scheduled. */
  baselines: number;
  /** Tags whose digest moved since the last sight: submitted as pushes. */
  changed: number;
  /** Repositories found for glob subscriptions by listing their registry's repositories. */
  globRepositories: number;
  /** Why some subscriptions (or tags) were not polled (no API access, no repository listing, the read budget). */
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
  /**
   * Tags per subscribed image whose digest is read in one round (default 100). A glob subscription counts as one
   * image: the repositories it expands to share that many reads, so globs do not raise a round's read budget.
   */
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

  /**
   * One round over every pollable subscription. `triggers`: how its triggers may wait for a busy GoCD (default the
   * trigger service's own window); a round already running is joined, not restarted.
   */
  pollOnce(triggers?: TriggerBudget): Promise<PollReport> {
    if (!this.running) {
      this.running = this.round(triggers).finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async round(triggerBudget: TriggerBudget | undefined): Promise<PollReport> {
    const { logger } = this.options;
    const report: PollReport = { images: 0, baselines: 0, changed: 0, globRepositories: 0, skipped: [], errors: 0 };
    const max = this.options.maxTagsPerImage ?? 100;
    const targets = await this.targets(report);
    // The round's read budget: `max` digests per exact image and per glob, whatever the globs expand to.
    let budget = max * targets.budgetUnits;
    for (const target of targets.list) {
      if (budget <= 0) {
        report.skipped.push(`${target.image}: the round's read budget (${max} tags per subscribed image) is spent`);
        continue;
      }
      report.images++;
      try {
        budget -= await this.pollImage(target, Math.min(max, budget), report, triggerBudget);
      } catch (err) {
        report.errors++;
        logger.warn(
          { err, image: target.image, registry: target.registry.name },
          'backstop poll of an image failed; next round retries',
        );
      }
    }
    if (report.skipped.length) logger.warn({ skipped: report.skipped }, 'backstop poll skipped some subscriptions');
    logger.debug({ ...report, skipped: report.skipped.length }, 'backstop poll round done');
    return report;
  }

  /**
   * What this round reads: one target per repository (exact images first, then those glob subscriptions expand to,
   * each registry's repository list read once), each with every subscription that matches it, so a repository's tags
   * are listed once however many subscriptions follow it.
   */
  private async targets(report: PollReport): Promise<{ list: PollTarget[]; budgetUnits: number }> {
    const byKey = new Map<string, PollTarget>();
    const add = (registry: Pick<RegistryConfig, 'name' | 'host'>, repository: string, sub: CompiledSubscription) => {
      const key = `${registry.name}|${repository}`;
      const target = byKey.get(key) ?? { registry, repository, image: `${registry.host}/${repository}`, subs: [] };
      if (!target.subs.includes(sub)) target.subs.push(sub);
      byKey.set(key, target);
    };
    const pollable = this.options.registries.filter((r) => this.options.tagSources(r.name));
    const exactImages = new Set<string>();
    const globs = this.options.subscriptions.subscriptions.filter((s) => s.isGlob);
    for (const s of this.options.subscriptions.subscriptions) {
      if (s.isGlob) continue;
      const registry = pollable.find((r) => s.image.startsWith(`${r.host}/`));
      if (!registry) {
        report.skipped.push(`${s.image}: no registry entry with API access (apiUrl, or type ecr) for its host`);
        continue;
      }
      exactImages.add(s.image);
      add(registry, s.image.slice(registry.host.length + 1), s);
    }
    const catalogs = new Map<string, Promise<{ repositories: string[]; truncated: boolean }>>();
    const globRepos = new Set<string>();
    for (const glob of globs) {
      const prefix = globPrefix(glob.image);
      const candidates = pollable.filter((r) => `${r.host}/`.startsWith(prefix) || prefix.startsWith(`${r.host}/`));
      if (candidates.length === 0) {
        report.skipped.push(`${glob.image}: no registry entry with API access (apiUrl, or type ecr) for its host`);
        continue;
      }
      for (const registry of candidates) {
        const source = this.options.tagSources(registry.name)!;
        if (!source.listRepositories) {
          report.skipped.push(`${glob.image}: registry '${registry.name}' cannot list its repositories`);
          continue;
        }
        let catalog = catalogs.get(registry.name);
        if (!catalog) {
          catalog = source.listRepositories();
          catalogs.set(registry.name, catalog);
        }
        let listed: { repositories: string[]; truncated: boolean };
        try {
          listed = await catalog;
        } catch (err) {
          report.errors++;
          report.skipped.push(`${glob.image}: listing the repositories of '${registry.name}' failed`);
          this.options.logger.warn({ err, registry: registry.name }, 'backstop poll: repository listing failed');
          continue;
        }
        if (listed.truncated) report.skipped.push(`${registry.name}: more repositories than one listing reads`);
        for (const repository of [...listed.repositories].sort()) {
          const image = `${registry.host}/${repository}`;
          if (!glob.matchesImage(image)) continue;
          if (!exactImages.has(image)) globRepos.add(image);
          add(registry, repository, glob);
        }
      }
    }
    report.globRepositories = globRepos.size;
    // Exact images first (in config order), then glob-found repositories (sorted), so the budget favours the exact.
    const list = [...byKey.values()].sort((a, b) => Number(globRepos.has(a.image)) - Number(globRepos.has(b.image)));
    return { list, budgetUnits: exactImages.size + globs.length };
  }

  /** Polls one repository; answers how many digests it read (at most `max`). */
  private async pollImage(
    target: PollTarget,
    max: number,
    report: PollReport,
    triggerBudget: TriggerBudget | undefined,
  ): Promise<number> {
    const { store, triggers, logger } = this.options;
    const { registry, repository, image, subs } = target;
    const source = this.options.tagSources(registry.name)!;
    const ttl = this.options.ttlDays * 86_400;
    const { tags, truncated } = await source.listTagDigests(
      repository,
      (tag) => subs.some((s) => tagMatches(s, tag)),
      max,
    );
    if (truncated) logger.warn({ image, max }, 'more matching tags than one poll round reads; narrow the tag regex');
    for (const [tag, digest] of tags) {
      const key = dedupeKeys.seen(registry.name, image, tag);
      const last = await store.get(key);
      if (last === undefined) {
        await store.put(key, digest, ttl);
        report.baselines++;
        continue;
      }
      if (last === digest) continue;
      report.changed++;
      logger.info({ image, tag, digest, previous: last }, 'backstop poll found a moved tag');
      // The trigger service records the new digest as seen once its triggers ended (not when released). No delivery
      // id: the push is (image, tag, digest), the same identity a digest-less webhook of it gets.
      const submitted = await triggers.submit(
        { registry: registry.name, host: registry.host, repository, tag, digest },
        'poll',
        triggerBudget,
      );
      // Already triggered for this digest (a tag moved back within the dedupe window): just move the baseline.
      if (submitted.status !== 'accepted') await store.put(key, digest, ttl);
    }
    return tags.size;
  }
}

/** One repository a round polls, with every subscription that follows it. */
interface PollTarget {
  registry: Pick<RegistryConfig, 'name' | 'host'>;
  repository: string;
  image: string;
  subs: CompiledSubscription[];
}
