import { describe, expect, it } from 'vitest';
import { dedupeKeys } from '../../src/registry/dedupe-keys.js';
import { MemoryStore, StoreFullError } from '../../src/store/memory-store.js';

const DAY = 86_400;

describe('memory store', () => {
  it("keeps GitHub's dedupe key after 100,100 Docker Hub keys: each registry has its own namespace", async () => {
    // Issue 16 finding 4: one shared 100,000-key LRU let Docker Hub deliveries (a path token, the weakest credential)
    // push GitHub's keys out, and a captured signed GitHub delivery was accepted again.
    const store = new MemoryStore();
    const github = dedupeKeys.delivery('ghcr', 'sha256-of-a-signed-body');
    expect(await store.putIfAbsent(github, 'done', 30 * DAY)).toBe(true);
    let refused = 0;
    for (let i = 0; i < 100_100; i++) {
      try {
        await store.putIfAbsent(dedupeKeys.delivery('hub', `docker.io/team/app:t${i}@undigested`), 'done', 300);
      } catch (err) {
        expect(err).toBeInstanceOf(StoreFullError);
        refused++;
      }
    }
    expect(refused).toBe(100);
    expect(store.sizeOf('hub')).toBe(100_000);
    expect(await store.get(github)).toBe('done');
    expect(await store.putIfAbsent(github, 'pending:replay', 30 * DAY)).toBe(false);
  });

  it('never evicts a live key: a full namespace refuses new keys, naming itself, until keys expire', async () => {
    const clock = { now: 1_000_000 };
    const store = new MemoryStore({ maxKeysPerNamespace: 3, now: () => clock.now });
    for (const i of [1, 2, 3]) await store.put(`hub|dlv|${i}`, 'done', 60);
    await expect(store.putIfAbsent('hub|dlv|4', 'x', 60)).rejects.toThrow(/dedupe store full for 'hub': 3 live keys/);
    await expect(store.put('hub|seen|x', 'x', 60)).rejects.toBeInstanceOf(StoreFullError);
    // Existing keys still answer and can be rewritten (settling a claim never needs room).
    expect(await store.putIfAbsent('hub|dlv|1', 'again', 60)).toBe(false);
    await store.put('hub|dlv|2', 'failed', 60);
    expect(await store.get('hub|dlv|2')).toBe('failed');
    // Another namespace is not affected.
    expect(await store.putIfAbsent('ghcr|dlv|1', 'x', 60)).toBe(true);
    clock.now += 61_000;
    expect(await store.putIfAbsent('hub|dlv|4', 'x', 60)).toBe(true);
    expect(store.sizeOf('hub')).toBe(1);
  });

  it('evicts the least recently used key of a bookkeeping namespace (~jobs, ~notices) instead of refusing', async () => {
    // Beyond 100,000 job-completed marks (7-day keys: ~14,000 jobs a day) job-completion used to fail to store its
    // mark and console lines repeated, with an error naming a registry's dedupe store.
    const store = new MemoryStore({ maxKeysPerNamespace: 3, maxBookkeepingKeys: 4 });
    for (let job = 1; job <= 10; job++) {
      await store.put(`~jobs|completed/ci/${job}`, '1', 7 * DAY);
      await store.put(`~notices|job:ci:${job}`, '{"state":"launched"}', 7 * DAY);
    }
    expect(store.sizeOf('~jobs')).toBe(4);
    expect(store.sizeOf('~notices')).toBe(4);
    expect(await store.get('~jobs|completed/ci/10')).toBe('1');
    expect(await store.get('~jobs|completed/ci/6')).toBeUndefined();
    expect(await store.putIfAbsent('~jobs|completed/ci/11', '1', 7 * DAY)).toBe(true);
    // Registry namespaces keep their rule: refuse, never forget a claim.
    for (const i of [1, 2, 3]) await store.put(`hub|dlv|${i}`, 'done', 60);
    await expect(store.put('hub|dlv|4', 'done', 60)).rejects.toBeInstanceOf(StoreFullError);
  });

  it('expires keys after their TTL and releases a claim only for its owner', async () => {
    const clock = { now: 1_000_000 };
    const store = new MemoryStore({ now: () => clock.now });
    expect(await store.putIfAbsent('docker|dlv|a', 'pending:1', 10)).toBe(true);
    await store.delete('docker|dlv|a', 'pending:2');
    expect(await store.get('docker|dlv|a')).toBe('pending:1');
    clock.now += 10_001;
    expect(await store.get('docker|dlv|a')).toBeUndefined();
    expect(await store.putIfAbsent('docker|dlv|a', 'pending:3', 10)).toBe(true);
    await store.delete('docker|dlv|a', 'pending:3');
    expect(await store.get('docker|dlv|a')).toBeUndefined();
  });
});
