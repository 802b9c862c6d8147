import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { RegistryDeliveries } from '../../src/registry/delivery.js';
import type { ImagePushed } from '../../src/registry/image-pushed.js';
import type { TriggerMetrics } from '../../src/registry/trigger-metrics.js';
import type { SubmitResult, TriggerRecord, TriggerService } from '../../src/registry/trigger-service.js';
import { registryEntry } from '../support/registry-fixtures.js';

// Accepting a delivery: one trigger submission per push, every outcome counted once under its registry type, the
// webhook's answer built from the submissions. The trigger service is a recording stand-in (its own rules are
// tested in trigger-service.test.ts).

function harness(
  results: Record<string, Omit<SubmitResult, 'done' | 'pipelines'> & Partial<Pick<SubmitResult, 'pipelines'>>>,
) {
  const events: [string, string, number | undefined][] = [];
  const submitted: [string, string][] = [];
  const tests: [string, string][] = [];
  const logs: [string, unknown, string][] = [];
  const metrics: TriggerMetrics = {
    registryEvent: (source, outcome, count) => void events.push([source, outcome, count]),
    trigger: () => undefined,
  };
  const record = (tag: string) => ({ tag }) as unknown as TriggerRecord;
  const triggers = {
    submit: async (push: ImagePushed, source: string) => {
      submitted.push([push.tag, source]);
      // An accepted push triggered its one pipeline unless the case says otherwise (trigger-service.test.ts covers
      // which pipelines a push triggers).
      const result = results[push.tag]!;
      const pipelines =
        result.status === 'accepted' ? [{ pipeline: `p-${push.tag}`, outcome: 'triggered' as const }] : [];
      return { pipelines, ...result, done: Promise.resolve([record(push.tag)]) };
    },
    recordTest: (push: ImagePushed, source: string) => {
      tests.push([push.tag, source]);
      return [];
    },
  } as unknown as TriggerService;
  const logger = {
    info: (obj: unknown, msg: string) => void logs.push(['info', obj, msg]),
    debug: (obj: unknown, msg: string) => void logs.push(['debug', obj, msg]),
  } as unknown as Pick<Logger, 'info' | 'debug'>;
  return { deliveries: new RegistryDeliveries(triggers, metrics), events, submitted, tests, logs, logger };
}

const quay = registryEntry('quay', { name: 'q', host: 'quay.io' });
const quayPush = (tags: string[]) => ({
  registry: quay,
  body: { repository: 'team/app', updated_tags: tags },
  headers: {},
});

describe('accepting a registry delivery', () => {
  it('submits each push as a webhook push and answers with the count of each outcome', async () => {
    const h = harness({
      a: { status: 'accepted' },
      b: { status: 'duplicate', reason: 'duplicate delivery ignored' },
      c: { status: 'unsubscribed' },
      d: { status: 'not-found', reason: "tag 'd' not found in the registry" },
      e: { status: 'accepted' },
    });
    const { ack, done } = await h.deliveries.accept(quayPush(['a', 'b', 'c', 'd', 'e']), h.logger);
    expect(h.submitted).toEqual(['a', 'b', 'c', 'd', 'e'].map((t) => [t, 'webhook']));
    expect(ack).toEqual({
      accepted: 2,
      duplicates: 1,
      unsubscribed: 1,
      ignored: ["tag 'd' not found in the registry"],
      pipelines: ['a', 'e'].map((tag) => ({
        image: 'quay.io/team/app',
        tag,
        pipeline: `p-${tag}`,
        outcome: 'triggered',
      })),
    });
    expect(h.events).toEqual([
      ['quay', 'triggered', 2],
      ['quay', 'duplicate', 1],
      ['quay', 'unmatched', 1],
      ['quay', 'ignored', 1],
    ]);
    expect((await done).map((r) => (r as unknown as { tag: string }).tag)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('logs the reason of each push that was not taken, with registry and status, and nothing for the others', async () => {
    const h = harness({ a: { status: 'accepted' }, b: { status: 'duplicate', reason: 'duplicate delivery ignored' } });
    await h.deliveries.accept(quayPush(['a', 'b']), h.logger);
    expect(h.logs.filter((l) => l[0] === 'info')).toEqual([
      ['info', { registry: 'q', status: 'duplicate' }, 'duplicate delivery ignored'],
    ]);
    expect(h.logs.at(-1)).toEqual([
      'debug',
      { registry: 'q', accepted: 1, duplicates: 1, unsubscribed: 0, ignored: 0, pipelines: 1 },
      'registry event received',
    ]);
  });

  it('counts nothing for an outcome that did not happen', async () => {
    const h = harness({ a: { status: 'accepted' } });
    const { ack } = await h.deliveries.accept(quayPush(['a']), h.logger);
    expect(ack).toEqual({
      accepted: 1,
      duplicates: 0,
      unsubscribed: 0,
      ignored: [],
      pipelines: [{ image: 'quay.io/team/app', tag: 'a', pipeline: 'p-a', outcome: 'triggered' }],
    });
    expect(h.events).toEqual([['quay', 'triggered', 1]]);
  });

  it("lists the parser's ignored items and a not-found push's reason, but not a not-found push without one", async () => {
    const h = harness({ a: { status: 'not-found' }, b: { status: 'duplicate', reason: 'seen' } });
    const { ack } = await h.deliveries.accept(quayPush(['a', 'b']), h.logger);
    expect(ack.ignored).toEqual([]);
    const none = harness({});
    const empty = await none.deliveries.accept(
      { registry: quay, body: { repository: 'team/app', name: 'build' }, headers: {} },
      none.logger,
    );
    expect(empty.ack).toEqual({
      accepted: 0,
      duplicates: 0,
      unsubscribed: 0,
      ignored: ['notification without updated_tags'],
      pipelines: [],
    });
    expect(none.events).toEqual([['quay', 'ignored', 1]]);
    expect(none.submitted).toEqual([]);
  });

  it("hands a registry's test notification to the trigger report as a webhook test, scheduling nothing", async () => {
    const h = harness({});
    await h.deliveries.accept(
      {
        registry: quay,
        body: { repository: 'team/app', updated_tags: ['latest', 'foo'], pruned_image_count: 3 },
        headers: {},
      },
      h.logger,
    );
    expect(h.tests).toEqual([
      ['latest', 'webhook'],
      ['foo', 'webhook'],
    ]);
    expect(h.submitted).toEqual([]);
  });

  it('counts a body the parser refuses as rejected and throws its ValidationError', async () => {
    const h = harness({});
    await expect(
      h.deliveries.accept({ registry: quay, body: { updated_tags: ['a'] }, headers: {} }, h.logger),
    ).rejects.toThrow(ValidationError);
    expect(h.events).toEqual([['quay', 'rejected', undefined]]);
  });

  it('counts a refused sender as rejected under its type, or under unknown when no registry matched', () => {
    const h = harness({});
    h.deliveries.refused('github');
    h.deliveries.refused(undefined);
    expect(h.events).toEqual([
      ['github', 'rejected', undefined],
      ['unknown', 'rejected', undefined],
    ]);
  });

  it('answers with the digest the trigger service resolved for a push whose event carried none', async () => {
    const h = harness({ a: { status: 'accepted', digest: 'sha256:aaaa' } });
    const { ack } = await h.deliveries.accept(quayPush(['a']), h.logger);
    expect(ack.pipelines).toEqual([
      { image: 'quay.io/team/app', tag: 'a', digest: 'sha256:aaaa', pipeline: 'p-a', outcome: 'triggered' },
    ]);
  });

  it('counts a push as accepted when it triggered one of its pipelines although its digest had already triggered another', async () => {
    const h = harness({
      a: {
        status: 'accepted',
        pipelines: [
          { pipeline: 'build', outcome: 'duplicate' },
          { pipeline: 'deploy', outcome: 'triggered' },
        ],
      },
      b: { status: 'accepted', pipelines: [{ pipeline: 'build', outcome: 'duplicate' }] },
    });
    const { ack } = await h.deliveries.accept(quayPush(['a', 'b']), h.logger);
    expect(ack).toMatchObject({ accepted: 1, duplicates: 1 });
    expect(h.events).toEqual([
      ['quay', 'triggered', 1],
      ['quay', 'duplicate', 1],
    ]);
  });
});
