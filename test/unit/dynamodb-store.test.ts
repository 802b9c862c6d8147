import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendUnavailableError } from '../../src/errors.js';
import type { KeyValueStore } from '../../src/registry/store.port.js';
import { DynamoDbStore } from '../../src/store/dynamodb-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';

let db: Dynalite;
let clock = Date.UTC(2026, 0, 1);
beforeAll(async () => {
  db = await startDynalite();
  await db.createStoreTable('scaler-store');
});
afterAll(async () => {
  await db.close();
});

const stores: [string, () => KeyValueStore][] = [
  [
    'dynamodb (dynalite, real SDK)',
    () => new DynamoDbStore({ client: db.doc, tableName: 'scaler-store', now: () => clock }),
  ],
  ['memory', () => new MemoryStore({ now: () => clock })],
];

let n = 0;
const key = (name: string) => `${name}-${++n}`;

describe.each(stores)('%s store', (_name, make) => {
  it('writes a key once with putIfAbsent, then refuses, and reads the value back', async () => {
    const store = make();
    const k = key('claim');
    expect(await store.putIfAbsent(k, 'pending:a', 60)).toBe(true);
    expect(await store.putIfAbsent(k, 'pending:b', 60)).toBe(false);
    expect(await store.get(k)).toBe('pending:a');
    expect(await store.get(key('absent'))).toBeUndefined();
  });

  it('lets exactly one of 20 concurrent claims win', async () => {
    const store = make();
    const k = key('race');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.putIfAbsent(k, `pending:${i}`, 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('treats an expired key as absent, for reads and for claims', async () => {
    const store = make();
    const k = key('ttl');
    await store.put(k, 'done', 10);
    expect(await store.get(k)).toBe('done');
    clock += 11_000;
    expect(await store.get(k)).toBeUndefined();
    expect(await store.putIfAbsent(k, 'pending:new', 10)).toBe(true);
  });

  it('overwrites with put (pending → done)', async () => {
    const store = make();
    const k = key('promote');
    await store.putIfAbsent(k, 'pending:a', 60);
    await store.put(k, 'done', 86_400);
    expect(await store.get(k)).toBe('done');
  });

  it('deletes only while the key still holds the expected value (a claim is released by its owner)', async () => {
    const store = make();
    const k = key('release');
    await store.put(k, 'pending:other', 60);
    await store.delete(k, 'pending:mine');
    expect(await store.get(k)).toBe('pending:other');
    await store.delete(k, 'pending:other');
    expect(await store.get(k)).toBeUndefined();
    await store.put(k, 'x', 60);
    await store.delete(k);
    expect(await store.get(k)).toBeUndefined();
  });
});

describe('dynamodb store failures', () => {
  it('reports a missing table as BackendUnavailable (never as "absent")', async () => {
    const store = new DynamoDbStore({ client: db.doc, tableName: 'no-such-table' });
    await expect(store.get('k')).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(store.putIfAbsent('k', 'v', 60)).rejects.toThrow(/DynamoDB PutItem failed: ResourceNotFoundException/);
  });

  it('writes the TTL attribute DynamoDB expires items by (epoch seconds)', async () => {
    const store = new DynamoDbStore({ client: db.doc, tableName: 'scaler-store', now: () => clock });
    await store.put('ttl-attribute', 'v', 3600);
    const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
    const out = await db.doc.send(new GetCommand({ TableName: 'scaler-store', Key: { pk: 'ttl-attribute' } }));
    expect(out.Item).toEqual({ pk: 'ttl-attribute', v: 'v', expiresAt: Math.floor(clock / 1000) + 3600 });
  });
});
