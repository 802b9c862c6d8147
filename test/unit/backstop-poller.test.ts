import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ScheduleOutcome, ScheduleVariable } from '../../src/gocd-api/gocd-schedule-client.js';
import { createLogger } from '../../src/logger.js';
import { BackstopPoller } from '../../src/registry/backstop-poller.js';
import type { TagSource } from '../../src/registry/digest-resolver.js';
import { SubscriptionTable } from '../../src/registry/subscriptions.js';
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
});
