import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ScheduleOutcome, ScheduleVariable } from '../../src/gocd-api/gocd-schedule-client.js';
import { createLogger } from '../../src/logger.js';
import { BackstopPoller } from '../../src/registry/backstop-poller.js';
import { SubscriptionTable } from '../../src/registry/subscriptions.js';
import type { TagSource } from '../../src/registry/tag-source.port.js';
import { TriggerService } from '../../src/registry/trigger-service.js';
import { MemoryStore } from '../../src/store/memory-store.js';

/** A registry whose tags the test moves by hand. */
class MovableTags implements TagSource {
  readonly tags = new Map<string, string>([
    ['1.0.0', 'sha256:a'],
    ['latest', 'sha256:a'],
    ['2.0.0', 'sha256:b'],
  ]);
  failing = false;
  readonly repositories = ['team/app'];
  async listRepositories() {
    return { repositories: this.repositories, truncated: false };
  }
  async resolve(_repository: string, tag: string) {
    const digest = this.tags.get(tag);
    return digest ? { digest } : undefined;
  }
  async listTagDigests(_repository: string, filter: (tag: string) => boolean, max: number) {
    if (this.failing) throw new Error('registry down');
    const kept = [...this.tags].filter(([t]) => filter(t));
    return { tags: new Map(kept.slice(0, max)), truncated: kept.length > max };
  }
}

function setup(maxTagsPerImage?: number) {
  const calls: string[] = [];
  const scheduler = {
    schedule: async (pipeline: string, vars: readonly ScheduleVariable[]): Promise<ScheduleOutcome> => {
      calls.push(`${pipeline}@${vars[0]!.value}=${vars[3]!.value}`);
      return { kind: 'scheduled', status: 202, attempts: 1, message: 'ok' };
    },
  };
  const store = new MemoryStore();
  const source = new MovableTags();
  const subscriptions = new SubscriptionTable([
    { image: 'registry.example.com/team/app', tags: '^1\\.', pipelines: ['deploy-app'] },
    { image: 'registry.example.com/team/app', tags: '^latest$', pipelines: ['promote'] },
    { image: 'registry.example.com/team/*', pipelines: ['audit'] },
    { image: 'other.example.com/x/y', pipelines: ['nowhere'] },
  ]);
  const logger = createLogger('silent');
  const triggers = new TriggerService({ store, scheduler, subscriptions, logger, retryWindowSeconds: 60, ttlDays: 30 });
  const poller = new BackstopPoller({
    subscriptions,
    registries: [{ name: 'docker', host: 'registry.example.com' }],
    tagSources: (name) => (name === 'docker' ? source : undefined),
    triggers,
    store,
    logger,
    intervalSeconds: 1,
    ttlDays: 30,
    maxTagsPerImage,
  });
  return { calls, poller, source, triggers };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('backstop poller', () => {
  it('records a baseline on first sight and schedules nothing', async () => {
    const { poller, calls } = setup();
    const report = await poller.pollOnce();
    // team/app's tags are listed once for all three subscriptions that follow it (exact, exact, glob).
    expect(report).toMatchObject({ images: 1, baselines: 3, changed: 0, errors: 0 });
    expect(report.skipped).toEqual([
      'other.example.com/x/y: no registry entry with API access (apiUrl, or type ecr) for its host',
    ]);
    expect(calls).toEqual([]);
  });

  it('schedules once when a dropped webhook left a tag moved, with the same variables a webhook gives', async () => {
    const { poller, calls, source, triggers } = setup();
    await poller.pollOnce();
    source.tags.set('1.0.0', 'sha256:c');
    expect(await poller.pollOnce()).toMatchObject({ changed: 1 });
    await triggers.idle();
    expect(calls.sort()).toEqual(['audit@1.0.0=sha256:c', 'deploy-app@1.0.0=sha256:c']);
    expect(await poller.pollOnce()).toMatchObject({ changed: 0 });
    await triggers.idle();
    expect(calls).toHaveLength(2);
  });

  it('schedules nothing more when the webhook already triggered the new digest', async () => {
    const { poller, calls, source, triggers } = setup();
    await poller.pollOnce();
    source.tags.set('latest', 'sha256:d');
    const webhook = await triggers.submit({
      registry: 'docker',
      host: 'registry.example.com',
      repository: 'team/app',
      tag: 'latest',
      digest: 'sha256:d',
      deliveryId: 'webhook-1',
    });
    await webhook.done;
    expect(await poller.pollOnce()).toMatchObject({ changed: 0 });
    await triggers.idle();
    expect(calls.sort()).toEqual(['audit@latest=sha256:d', 'promote@latest=sha256:d']);
  });

  it('reads at most maxTagsPerImage tags per round, and survives a failing registry', async () => {
    const { poller, source } = setup(1);
    expect(await poller.pollOnce()).toMatchObject({ baselines: 1 });
    source.failing = true;
    expect(await poller.pollOnce()).toMatchObject({ errors: 1 });
  });

  it('polls on its interval once started, and not after stop', async () => {
    vi.useFakeTimers();
    const { poller } = setup();
    const spy = vi.spyOn(poller, 'pollOnce');
    poller.start();
    await vi.advanceTimersByTimeAsync(2_100);
    expect(spy).toHaveBeenCalledTimes(2);
    await poller.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  describe('glob subscriptions', () => {
    /** A registry of several repositories, counting its listings and digest reads. */
    function globSetup(maxTagsPerImage: number, globs: string[]) {
      const counts = { catalog: 0, tagLists: [] as string[], reads: 0 };
      const repos: Record<string, Record<string, string>> = {
        'backends/a': { '1.0.0': 'sha256:a1', '1.0.1': 'sha256:a2' },
        'backends/b': { '1.0.0': 'sha256:b1', '1.0.1': 'sha256:b2' },
        'backends/c': { '1.0.0': 'sha256:c1' },
        'frontends/web': { '1.0.0': 'sha256:w1' },
      };
      const source: TagSource = {
        resolve: async (repository, tag) => {
          const digest = repos[repository]?.[tag];
          return digest ? { digest } : undefined;
        },
        listTagDigests: async (repository, filter, max) => {
          counts.tagLists.push(repository);
          const kept = Object.entries(repos[repository] ?? {}).filter(([tag]) => filter(tag));
          counts.reads += Math.min(max, kept.length);
          return { tags: new Map(kept.slice(0, max)), truncated: kept.length > max };
        },
        listRepositories: async () => {
          counts.catalog++;
          return { repositories: Object.keys(repos), truncated: false };
        },
      };
      const store = new MemoryStore();
      const logger = createLogger('silent');
      const subscriptions = new SubscriptionTable([
        { image: 'registry.example.com/backends/a', pipelines: ['exact-a'] },
        ...globs.map((image) => ({ image, pipelines: ['glob'] })),
      ]);
      const scheduler = {
        schedule: async (): Promise<ScheduleOutcome> => ({
          kind: 'scheduled',
          status: 202,
          attempts: 1,
          message: 'ok',
        }),
      };
      const triggers = new TriggerService({
        store,
        scheduler,
        subscriptions,
        logger,
        retryWindowSeconds: 60,
        ttlDays: 30,
      });
      const poller = new BackstopPoller({
        subscriptions,
        registries: [{ name: 'docker', host: 'registry.example.com' }],
        tagSources: () => source,
        triggers,
        store,
        logger,
        intervalSeconds: 0,
        ttlDays: 30,
        maxTagsPerImage,
      });
      return { poller, counts };
    }

    it("lists the registry's repositories once and each matching repository's tags once", async () => {
      const { poller, counts } = globSetup(100, ['registry.example.com/backends/*', 'registry.example.com/**/a']);
      const report = await poller.pollOnce();
      expect(counts.catalog).toBe(1);
      expect(counts.tagLists.sort()).toEqual(['backends/a', 'backends/b', 'backends/c']);
      expect(report).toMatchObject({ images: 3, globRepositories: 2, baselines: 5, errors: 0 });
    });

    it('keeps the read budget of the round: a glob counts as one image however many repositories it matches', async () => {
      // One exact image and one glob at 2 tags each: at most 4 digest reads, whatever the glob expands to.
      const { poller, counts } = globSetup(2, ['registry.example.com/backends/*']);
      const report = await poller.pollOnce();
      expect(counts.reads).toBe(4);
      expect(report.skipped).toEqual([
        "registry.example.com/backends/c: the round's read budget (2 tags per subscribed image) is spent",
      ]);
    });

    it('says so when the registry cannot list its repositories', async () => {
      const { poller, source } = setup();
      Object.defineProperty(source, 'listRepositories', { value: undefined });
      const report = await poller.pollOnce();
      expect(report.skipped).toContain("registry.example.com/team/*: registry 'docker' cannot list its repositories");
    });
  });
});
