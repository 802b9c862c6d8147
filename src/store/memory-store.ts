import { LRUCache } from 'lru-cache';
import type { KeyValueStore } from './store.port.js';

export interface MemoryStoreOptions {
  /** Most keys kept; the least recently used go first (default 100,000). */
  maxEntries?: number;
  /** Clock in milliseconds, for tests (default `performance.now`). */
  now?: () => number;
}

/**
 * The default store: one process, bounded, keys expire by TTL. Losing a key (restart, eviction under pressure)
 * can only cause a repeated trigger, never a lost one.
 */
export class MemoryStore implements KeyValueStore {
  private readonly cache: LRUCache<string, string>;

  constructor(options: MemoryStoreOptions = {}) {
    this.cache = new LRUCache<string, string>({
      max: options.maxEntries ?? 100_000,
      ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
    });
  }

  async get(key: string): Promise<string | undefined> {
    return this.cache.get(key);
  }

  async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.cache.set(key, value, { ttl: Math.max(1, Math.round(ttlSeconds * 1000)) });
  }

  async putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    // `has` ignores expired entries; no await between check and set, so this is atomic within the process.
    if (this.cache.has(key)) return false;
    this.cache.set(key, value, { ttl: Math.max(1, Math.round(ttlSeconds * 1000)) });
    return true;
  }

  async delete(key: string, ifValue?: string): Promise<void> {
    if (ifValue === undefined || this.cache.get(key) === ifValue) this.cache.delete(key);
  }

  /** Number of live keys (tests, status). */
  get size(): number {
    return this.cache.size;
  }
}
