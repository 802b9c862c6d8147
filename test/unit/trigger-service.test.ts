import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ScheduleOutcome, ScheduleVariable } from '../../src/gocd-api/gocd-schedule-client.js';
import { createLogger } from '../../src/logger.js';
import type { TagSource } from '../../src/registry/digest-resolver.js';
import type { ImagePushed } from '../../src/registry/image-pushed.js';
import { SubscriptionTable } from '../../src/registry/subscriptions.js';
import { dedupeKeys } from '../../src/registry/dedupe-keys.js';
import { type PipelineScheduler, TriggerService } from '../../src/registry/trigger-service.js';
import { MemoryStore } from '../../src/store/memory-store.js';

/** A scheduler whose answers are scripted per call; records every call. */
class ScriptedScheduler implements PipelineScheduler {
  readonly calls: { pipeline: string; env: Record<string, string> }[] = [];
  constructor(private readonly answers: ((signal?: AbortSignal) => Promise<ScheduleOutcome>)[] = []) {}
  async schedule(
    pipeline: string,
    variables: readonly ScheduleVariable[],
    signal?: AbortSignal,
  ): Promise<ScheduleOutcome> {
    this.calls.push({ pipeline, env: Object.fromEntries(variables.map((v) => [v.name, v.value])) });
    const next = this.answers.shift();
    return next ? next(signal) : { kind: 'scheduled', status: 202, attempts: 1, message: 'accepted' };
  }
}

/** Resolves to `aborted` only when the signal fires (a retry loop stopped by shutdown). */
const untilAborted = (signal?: AbortSignal) =>
  new Promise<ScheduleOutcome>((resolve) =>
    signal?.addEventListener('abort', () =>
      resolve({ kind: 'aborted', attempts: 3, message: 'aborted while waiting to retry' }),
    ),
  );

function setup(options: { scheduler?: ScriptedScheduler; tagSource?: TagSource; clock?: { now: number } } = {}) {
  const clock = options.clock ?? { now: 1_000_000 };
  const store = new MemoryStore({ now: () => clock.now });
  const scheduler = options.scheduler ?? new ScriptedScheduler();
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger('debug', sink);
  const triggers = new TriggerService({
    store,
    scheduler,
    subscriptions: new SubscriptionTable([
      { image: 'registry.example.com/team/app', tags: '^1\\.', pipelines: ['deploy-app', 'audit'] },
      { image: 'registry.example.com/team/*', pipelines: ['audit'] },
      { image: 'docker.io/team/app', pipelines: ['hub'] },
    ]),
    logger,
    retryWindowSeconds: 60,
    ttlDays: 30,
    tagSources: (name) => (name === 'hub' ? options.tagSource : undefined),
  });
  return { store, scheduler, triggers, logs, clock };
}

const push = (overrides: Partial<ImagePushed> = {}): ImagePushed => ({
  registry: 'docker',
  host: 'registry.example.com',
  repository: 'team/app',
  tag: '1.0.0',
  digest: 'sha256:aaa',
  deliveryId: 'delivery-1',
  ...overrides,
});

async function submitAndWait(t: TriggerService, p: ImagePushed) {
  const result = await t.submit(p);
  return { status: result.status, records: await result.done };
}

describe('trigger service', () => {
  it('schedules each subscribed pipeline once, with the material variables', async () => {
    const { triggers, scheduler } = setup();
    const { status, records } = await submitAndWait(triggers, push());
    expect(status).toBe('accepted');
    expect(records.map((r) => `${r.pipeline}:${r.outcome}`)).toEqual(['deploy-app:scheduled', 'audit:scheduled']);
    expect(scheduler.calls.map((c) => c.pipeline)).toEqual(['deploy-app', 'audit']);
    expect(scheduler.calls[0]!.env.GO_PACKAGE_DOCKER_TEAM_APP_DIGEST).toBe('sha256:aaa');
  });

  it('schedules nothing new for another delivery of the same (image, tag, digest), but does for a retag', async () => {
    const { triggers, scheduler } = setup();
    await submitAndWait(triggers, push());
    const repush = await submitAndWait(triggers, push({ deliveryId: 'delivery-2' }));
    expect(repush.records.map((r) => r.outcome)).toEqual(['duplicate', 'duplicate']);
    // Same digest under another tag the subscription accepts: a new trigger.
    await submitAndWait(triggers, push({ deliveryId: 'delivery-3', tag: '1.0' }));
    expect(scheduler.calls.map((c) => `${c.pipeline}@${c.env.GO_PACKAGE_DOCKER_TEAM_APP_LABEL}`)).toEqual([
      'deploy-app@1.0.0',
      'audit@1.0.0',
      'deploy-app@1.0',
      'audit@1.0',
    ]);
  });

  it('lets one of many concurrent deliveries of one digest schedule', async () => {
    const { triggers, scheduler } = setup();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => submitAndWait(triggers, push({ deliveryId: `d-${i}` }))),
    );
    expect(scheduler.calls).toHaveLength(2);
    expect(results.flatMap((r) => r.records).filter((r) => r.outcome === 'scheduled')).toHaveLength(2);
  });

  it('answers a redelivery of the same delivery as a duplicate without touching the pipelines', async () => {
    const { triggers, scheduler } = setup();
    await submitAndWait(triggers, push());
    expect((await triggers.submit(push())).status).toBe('duplicate');
    expect(scheduler.calls).toHaveLength(2);
  });

  it('counts a reported failure (422) as used: logged at error naming the variable, not retried by a redelivery', async () => {
    const failed: ScheduleOutcome = {
      kind: 'failed',
      status: 422,
      attempts: 1,
      message:
        "Request to schedule pipeline rejected { Variable 'GO_PACKAGE_DOCKER_TEAM_APP_DIGEST' has not been configured for pipeline 'deploy-app' }",
      missingVariable: 'GO_PACKAGE_DOCKER_TEAM_APP_DIGEST',
      windowExhausted: false,
    };
    const { triggers, scheduler, logs } = setup({ scheduler: new ScriptedScheduler([async () => failed]) });
    const { records } = await submitAndWait(triggers, push());
    expect(records[0]).toMatchObject({
      outcome: 'failed',
      status: 422,
      missingVariable: 'GO_PACKAGE_DOCKER_TEAM_APP_DIGEST',
    });
    const line = JSON.parse(logs.find((l) => l.includes('does not declare'))!);
    expect(line).toMatchObject({
      level: 50,
      pipeline: 'deploy-app',
      image: 'registry.example.com/team/app',
      tag: '1.0.0',
      digest: 'sha256:aaa',
      status: 422,
    });
    await submitAndWait(triggers, push({ deliveryId: 'delivery-2' }));
    expect(scheduler.calls).toHaveLength(2);
    expect(
      triggers
        .recentTriggers()
        .map((r) => `${r.pipeline}:${r.outcome}`)
        .sort(),
    ).toEqual(['audit:duplicate', 'audit:scheduled', 'deploy-app:duplicate', 'deploy-app:failed']);
  });

  it('releases an unfinished trigger on shutdown, so a redelivery of the same delivery still schedules it', async () => {
    const { triggers, store, logs } = setup({ scheduler: new ScriptedScheduler([untilAborted]) });
    const first = await triggers.submit(push());
    await triggers.close();
    const records = await first.done;
    expect(records.map((r) => `${r.pipeline}:${r.outcome}`)).toEqual(['deploy-app:released', 'audit:scheduled']);
    expect(logs.some((l) => l.includes('released so a redelivery'))).toBe(true);
    // A new service over the same store (the restarted process) takes the redelivery.
    const scheduler = new ScriptedScheduler();
    const again = new TriggerService({
      store,
      scheduler,
      subscriptions: new SubscriptionTable([
        { image: 'registry.example.com/team/app', tags: '^1\\.', pipelines: ['deploy-app', 'audit'] },
      ]),
      logger: createLogger('silent'),
      retryWindowSeconds: 60,
      ttlDays: 30,
    });
    const redelivered = await submitAndWait(again, push());
    expect(redelivered.status).toBe('accepted');
    expect(redelivered.records.map((r) => `${r.pipeline}:${r.outcome}`)).toEqual([
      'deploy-app:scheduled',
      'audit:duplicate',
    ]);
    expect(scheduler.calls.map((c) => c.pipeline)).toEqual(['deploy-app']);
  });

  it('lets a redelivery through once a dead process left its pending claim to expire', async () => {
    const { triggers, store, clock } = setup();
    // A claim as a crashed process leaves it: pending, never settled.
    await store.putIfAbsent(dedupeKeys.delivery('docker', 'delivery-1'), 'pending:dead', 180);
    await store.putIfAbsent(
      dedupeKeys.trigger('docker', 'deploy-app', 'registry.example.com/team/app', '1.0.0', 'sha256:aaa'),
      'pending:dead',
      180,
    );
    expect((await triggers.submit(push())).status).toBe('duplicate');
    clock.now += 181_000;
    const { records } = await submitAndWait(triggers, push());
    expect(records.map((r) => `${r.pipeline}:${r.outcome}`)).toEqual(['deploy-app:scheduled', 'audit:scheduled']);
  });

  it('records the digest as seen for the backstop poll only when nothing was released', async () => {
    const { triggers, store } = setup();
    await submitAndWait(triggers, push());
    expect(await store.get(dedupeKeys.seen('docker', 'registry.example.com/team/app', '1.0.0'))).toBe('sha256:aaa');
  });

  it('ignores a push no subscription matches without writing to the store', async () => {
    const { triggers, store } = setup();
    expect((await triggers.submit(push({ repository: 'other/app' }))).status).toBe('unsubscribed');
    expect(store.size).toBe(0);
  });

  describe('digest-less hints (Docker Hub, Quay)', () => {
    const hint = push({
      registry: 'hub',
      host: 'docker.io',
      digest: undefined,
      deliveryId: 'dockerhub:team/app:1.0.0:1',
    });

    it('resolves the digest through the registry and dedupes on it', async () => {
      const source: TagSource = {
        resolve: async () => ({ digest: 'sha256:resolved', mediaType: 'application/vnd.oci.image.index.v1+json' }),
        listTagDigests: async () => ({ tags: new Map(), truncated: false }),
      };
      const { triggers, scheduler } = setup({ tagSource: source });
      await submitAndWait(triggers, hint);
      await submitAndWait(triggers, { ...hint, deliveryId: 'dockerhub:team/app:1.0.0:2' });
      expect(scheduler.calls).toHaveLength(1);
      expect(scheduler.calls[0]!.env.GO_PACKAGE_HUB_TEAM_APP_DIGEST).toBe('sha256:resolved');
    });

    it('ignores a hint for a tag the registry does not have (a forged or stale event)', async () => {
      const source: TagSource = {
        resolve: async () => undefined,
        listTagDigests: async () => ({ tags: new Map(), truncated: false }),
      };
      const { triggers, scheduler, logs } = setup({ tagSource: source });
      expect(await submitAndWait(triggers, hint)).toEqual({ status: 'accepted', records: [] });
      expect(scheduler.calls).toEqual([]);
      expect(logs.some((l) => l.includes('not found in the registry'))).toBe(true);
    });

    it('still triggers, once per delivery, when the registry cannot be asked', async () => {
      const source: TagSource = {
        resolve: async () => {
          throw new Error('registry down');
        },
        listTagDigests: async () => ({ tags: new Map(), truncated: false }),
      };
      const { triggers, scheduler } = setup({ tagSource: source });
      await submitAndWait(triggers, hint);
      await submitAndWait(triggers, hint);
      expect(scheduler.calls).toHaveLength(1);
      expect(scheduler.calls[0]!.env.GO_PACKAGE_HUB_TEAM_APP_DIGEST).toBe('');
    });
  });

  it('rejects the submit when the store cannot take the claim (the webhook answers 503)', async () => {
    const { triggers, store } = setup();
    store.putIfAbsent = async () => {
      throw new Error('store down');
    };
    await expect(triggers.submit(push())).rejects.toThrow('store down');
  });
});
