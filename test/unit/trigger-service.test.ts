import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type {
  ScheduleOutcome,
  ScheduleRequestOptions,
  ScheduleVariable,
} from '../../src/gocd-api/gocd-schedule-client.js';
import { createLogger } from '../../src/logger.js';
import { dedupeKeys } from '../../src/registry/dedupe-keys.js';
import type { ImagePushed } from '../../src/registry/image-pushed.js';
import { SubscriptionTable } from '../../src/registry/subscriptions.js';
import type { TagSource } from '../../src/registry/tag-source.port.js';
import { type PipelineScheduler, TriggerService } from '../../src/registry/trigger-service.js';
import { MemoryStore } from '../../src/store/memory-store.js';

/** A scheduler whose answers are scripted per call; records every call. */
class ScriptedScheduler implements PipelineScheduler {
  readonly calls: { pipeline: string; env: Record<string, string> }[] = [];
  constructor(private readonly answers: ((signal?: AbortSignal) => Promise<ScheduleOutcome>)[] = []) {}
  async schedule(
    pipeline: string,
    variables: readonly ScheduleVariable[],
    options: ScheduleRequestOptions,
  ): Promise<ScheduleOutcome> {
    this.calls.push({ pipeline, env: Object.fromEntries(variables.map((v) => [v.name, v.value])) });
    const next = this.answers.shift();
    return next ? next(options.signal) : { kind: 'scheduled', status: 202, attempts: 1, message: 'accepted' };
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

  describe('digest-less hints without an id of their own (Docker Hub, Quay)', () => {
    // As the Docker Hub and Quay parsers produce them: no digest, no delivery id (Quay repeats its bytes per tag).
    const hint = push({ registry: 'hub', host: 'docker.io', digest: undefined, deliveryId: undefined });
    /** A registry whose tag points at `digests[n]` on the n-th lookup (the last one from then on). */
    const moving = (...digests: (string | Error | undefined)[]) => {
      const calls: string[] = [];
      const source: TagSource = {
        resolve: async (_repository, tag) => {
          const next = digests.length > 1 ? digests.shift() : digests[0];
          calls.push(tag);
          if (next instanceof Error) throw next;
          return next ? { digest: next, mediaType: 'application/vnd.oci.image.index.v1+json' } : undefined;
        },
        listTagDigests: async () => ({ tags: new Map(), truncated: false }),
      };
      return { source, calls };
    };

    it('schedules a tag pushed twice with two digests twice, and the same push redelivered once (Quay)', async () => {
      const registry = moving('sha256:first', 'sha256:first', 'sha256:second', 'sha256:second');
      const { triggers, scheduler } = setup({ tagSource: registry.source });
      expect((await submitAndWait(triggers, hint)).status).toBe('accepted');
      expect((await submitAndWait(triggers, hint)).status).toBe('duplicate'); // the same push redelivered
      expect((await submitAndWait(triggers, hint)).status).toBe('accepted'); // the tag pushed again: new digest
      expect((await submitAndWait(triggers, hint)).status).toBe('duplicate');
      expect(scheduler.calls.map((c) => c.env.GO_PACKAGE_HUB_TEAM_APP_DIGEST)).toEqual([
        'sha256:first',
        'sha256:second',
      ]);
      // The digest was looked up before the delivery was claimed, once per delivery.
      expect(registry.calls).toHaveLength(4);
    });

    it('collapses the calls of one multi-arch push into one trigger by the resolved digest', async () => {
      const { triggers, scheduler } = setup({ tagSource: moving('sha256:index').source });
      const results = await Promise.all(Array.from({ length: 5 }, () => submitAndWait(triggers, hint)));
      expect(results.map((r) => r.status).sort()).toEqual([
        'accepted',
        'duplicate',
        'duplicate',
        'duplicate',
        'duplicate',
      ]);
      expect(scheduler.calls).toHaveLength(1);
    });

    it('answers a hint for a tag the registry does not have as not-found, and schedules nothing', async () => {
      const { triggers, scheduler, logs, store } = setup({ tagSource: moving(undefined).source });
      const result = await triggers.submit(hint);
      expect(result.status).toBe('not-found');
      expect(result.reason).toBe('docker.io/team/app:1.0.0 not found in the registry');
      expect(scheduler.calls).toEqual([]);
      expect(store.size).toBe(0);
      expect(logs.some((l) => l.includes('not found in the registry'))).toBe(true);
    });

    it('without a digest dedupes on (image, tag) for the short window only, then schedules the tag again', async () => {
      const clock = { now: 1_000_000 };
      const { triggers, scheduler } = setup({ tagSource: moving(new Error('registry down')).source, clock });
      await submitAndWait(triggers, hint);
      expect((await submitAndWait(triggers, hint)).status).toBe('duplicate');
      clock.now += 299_000;
      expect((await submitAndWait(triggers, hint)).status).toBe('duplicate');
      clock.now += 2_000; // past the 300 s window: a later push of the tag is a new push
      expect((await submitAndWait(triggers, hint)).status).toBe('accepted');
      expect(scheduler.calls.map((c) => c.env.GO_PACKAGE_HUB_TEAM_APP_DIGEST)).toEqual(['', '']);
    });
  });

  describe('pushes with an id of their own but no digest (a signed GitHub delivery)', () => {
    it('resolves the digest behind the answer and dedupes on the id', async () => {
      const { triggers, scheduler } = setup({
        tagSource: {
          resolve: async () => ({ digest: 'sha256:resolved' }),
          listTagDigests: async () => ({ tags: new Map(), truncated: false }),
        },
      });
      const signed = push({ registry: 'hub', host: 'docker.io', digest: undefined, deliveryId: 'sha256-of-body' });
      await submitAndWait(triggers, signed);
      expect((await submitAndWait(triggers, signed)).status).toBe('duplicate');
      expect(scheduler.calls.map((c) => c.env.GO_PACKAGE_HUB_TEAM_APP_DIGEST)).toEqual(['sha256:resolved']);
    });
  });

  it('records a test notification for every subscribed pipeline without claiming or scheduling anything', () => {
    const { triggers, scheduler, store } = setup();
    const records = triggers.recordTest(push({ digest: undefined, deliveryId: undefined }));
    expect(records.map((r) => `${r.pipeline}:${r.outcome}`)).toEqual(['deploy-app:test', 'audit:test']);
    expect(triggers.recentTriggers().map((r) => r.outcome)).toEqual(['test', 'test']);
    expect(scheduler.calls).toEqual([]);
    expect(store.size).toBe(0);
  });

  it('rejects the submit when the store cannot take the claim (the webhook answers 503)', async () => {
    const { triggers, store } = setup();
    store.putIfAbsent = async () => {
      throw new Error('store down');
    };
    await expect(triggers.submit(push())).rejects.toThrow('store down');
  });
});
