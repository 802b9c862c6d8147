import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { KeyValueStore } from '../../src/registry/store.port.js';
import { MAX_TRIGGER_MESSAGES, TriggerProblems, triggerProblemMessage } from '../../src/registry/trigger-health.js';
import type { TriggerRecord } from '../../src/registry/trigger-service.js';
import { DynamoDbStore } from '../../src/store/dynamodb-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';

const quiet = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));

const base: TriggerRecord = {
  at: '2026-12-07T09:00:00Z',
  source: 'webhook',
  registry: 'docker',
  image: 'registry.example.com/team/app',
  tag: '1.0.0',
  pipeline: 'deploy-app',
  outcome: 'scheduled',
};
const failed = (extra: Partial<TriggerRecord> = {}): TriggerRecord => ({
  ...base,
  outcome: 'failed',
  status: 404,
  ...extra,
});

describe('the registry-trigger server-health message', () => {
  it('says what to fix', () => {
    const message = (extra: Partial<TriggerRecord>) => triggerProblemMessage(failed(extra)).message;
    expect(message({ status: undefined, message: 'connect ECONNREFUSED' })).toContain(
      'the GoCD API did not answer (connect ECONNREFUSED); check gocd.apiUrl',
    );
    expect(message({ status: 401 })).toContain('check gocd.apiToken');
    expect(message({ status: 422, missingVariable: 'GO_PACKAGE_DOCKER_TEAM_APP_LABEL' })).toContain(
      'does not declare the environment variable GO_PACKAGE_DOCKER_TEAM_APP_LABEL',
    );
    expect(message({ status: 404, message: 'not found' })).toContain('answered 404: not found');
  });

  it('quotes request values clipped, whatever their size', () => {
    const huge = 'x'.repeat(300_000);
    const { message } = triggerProblemMessage(failed({ image: huge, tag: huge, pipeline: huge, message: huge }));
    expect(message.length).toBeLessThan(1_000);
  });
});

// The problem used to come from this process's in-memory ring of its last 200 trigger records, written to the shared
// notices board: another process (or Lambda container) with nothing to report deleted it, any later scheduled trigger
// cleared it even for another pipeline, and 200 later records pushed it out. Now it lives in the shared store, per
// pipeline.
let db: Dynalite;
beforeAll(async () => {
  db = await startDynalite();
  await db.createStoreTable('problems');
});
afterAll(async () => db.close());

const stores: [string, () => KeyValueStore][] = [
  ['memory', () => new MemoryStore()],
  ['DynamoDB (dynalite, real SDK)', () => new DynamoDbStore({ client: db.doc, tableName: 'problems' })],
];

describe.each(stores)('trigger problems in a shared %s store', (_name, makeStore) => {
  it('are seen by every process, kept through other pipelines’ triggers, and cleared by the same pipeline’s schedule', async () => {
    const store = makeStore();
    const pipelines = ['deploy-app', 'deploy-web'];
    // Two Lambda containers (or processes) over one store.
    const a = new TriggerProblems(store, pipelines, quiet);
    const b = new TriggerProblems(store, pipelines, quiet);
    await a.recorded(failed({ status: 401 }));
    expect(Object.keys(await b.current())).toEqual(['trigger:deploy-app']);
    expect((await b.current())['trigger:deploy-app']!.message).toContain('check gocd.apiToken');

    // Another pipeline scheduled, and many later outcomes (duplicates, releases): the problem stays.
    await b.recorded({ ...base, pipeline: 'deploy-web' });
    for (let i = 0; i < 250; i++) await b.recorded({ ...base, outcome: i % 2 ? 'duplicate' : 'released' });
    expect(Object.keys(await a.current())).toEqual(['trigger:deploy-app']);

    // The same pipeline scheduled (any registry, any process): cleared for everyone.
    await b.recorded({ ...base, registry: 'quay' });
    expect(await a.current()).toEqual({});
  });

  it('puts at most MAX_TRIGGER_MESSAGES on the panel', async () => {
    const store = makeStore();
    const pipelines = Array.from({ length: 60 }, (_, i) => `p${i}`);
    const problems = new TriggerProblems(store, pipelines, quiet);
    for (const p of pipelines) await problems.recorded(failed({ pipeline: p }));
    expect(Object.keys(await problems.current())).toHaveLength(MAX_TRIGGER_MESSAGES);
  });
});
