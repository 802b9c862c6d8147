import { LRUCache } from 'lru-cache';
import { BackendUnavailableError } from '../errors.js';
import { type KeyValueStore, namespaceOf } from '../registry/store.port.js';

export interface MemoryStoreOptions {
  /** Live keys kept per registry namespace (one per registry entry; default 100,000); beyond it new keys are refused. */
  maxKeysPerNamespace?: number;
  /**
   * Keys kept per bookkeeping namespace (`~jobs`, `~notices`: job-completed marks, what GoCD users were told; default
   * 200,000); beyond it the least recently used key is evicted, never a new one refused.
   */
  maxBookkeepingKeys?: number;
  /** Clock in milliseconds, for tests (default `performance.now`). */
  now?: () => number;
}

/** A namespace of the memory store has no room for another key: new work is refused, never an old key forgotten. */
export class StoreFullError extends BackendUnavailableError {}

/** Expired keys are swept at most this often when a namespace is full (the sweep walks every key). */
const SWEEP_INTERVAL_MS = 1_000;

/**
 * The default store: one process, keys expire by TTL, one bounded map per namespace (the part of the key before the
 * first `|`, i.e. the registry entry). A live registry key is never evicted before its TTL: a namespace at its bound
 * refuses new keys with StoreFullError (503, so the sender delivers again later), so one registry's traffic — a Docker
 * Hub path token, say — can neither push another registry's dedupe keys out nor make its own forget a claim.
 *
 * The service's bookkeeping namespaces (`~…`, which no registry name can be) are not replay protection: job-completed
 * marks (a stale create-agent is also held off by the RunTask client token) and the notices told to GoCD users (a
 * forgotten one is at worst told again). They get their own bound and evict their least recently used key instead of
 * refusing: refusing would fail every job-completion mark and repeat console lines once a busy GoCD had run more jobs
 * than the bound within the keys' 7 days.
 *
 * What it does not protect against: a restart (everything is forgotten) and several processes (each has its own);
 * production deployments use the DynamoDB store.
 */
export class MemoryStore implements KeyValueStore {
  private readonly namespaces = new Map<string, LRUCache<string, string>>();
  private readonly lastSweep = new Map<string, number>();
  private readonly max: number;
  private readonly maxBookkeeping: number;
  private readonly now: () => number;

  constructor(private readonly options: MemoryStoreOptions = {}) {
    this.max = options.maxKeysPerNamespace ?? 100_000;
    this.maxBookkeeping = options.maxBookkeepingKeys ?? 200_000;
    this.now = options.now ?? (() => performance.now());
  }

  async get(key: string): Promise<string | undefined> {
    return this.namespaces.get(namespaceOf(key))?.get(key);
  }

  async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    const cache = this.room(key);
    cache.set(key, value, { ttl: ttlMs(ttlSeconds) });
  }

  async putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    // `has` ignores expired entries; no await between check and set, so this is atomic within the process.
    const cache = this.namespaces.get(namespaceOf(key));
    if (cache?.has(key)) return false;
    this.room(key).set(key, value, { ttl: ttlMs(ttlSeconds) });
    return true;
  }

  async delete(key: string, ifValue?: string): Promise<void> {
    const cache = this.namespaces.get(namespaceOf(key));
    if (cache && (ifValue === undefined || cache.get(key) === ifValue)) cache.delete(key);
  }

  /** Number of keys held, over every namespace (tests, status). */
  get size(): number {
    let n = 0;
    for (const cache of this.namespaces.values()) n += cache.size;
    return n;
  }

  /** Number of keys held in one namespace. */
  sizeOf(namespace: string): number {
    return this.namespaces.get(namespace)?.size ?? 0;
  }

  /**
   * The namespace's map, with room for `key`: a registry namespace throws StoreFullError rather than evicting a live
   * key; a bookkeeping one (`~…`) lets its LRU evict the least recently used.
   */
  private room(key: string): LRUCache<string, string> {
    const ns = namespaceOf(key);
    const bookkeeping = isBookkeeping(ns);
    let cache = this.namespaces.get(ns);
    if (!cache) {
      // For a registry namespace `max` is only a backstop: an insert never reaches it, a full namespace refuses first.
      cache = new LRUCache<string, string>({
        max: bookkeeping ? this.maxBookkeeping : this.max + 1,
        ...(this.options.now ? { perf: { now: this.options.now }, ttlResolution: 0 } : {}),
      });
      this.namespaces.set(ns, cache);
    }
    if (bookkeeping || cache.size < this.max || cache.has(key)) return cache;
    const at = this.now();
    if (at - (this.lastSweep.get(ns) ?? Number.NEGATIVE_INFINITY) >= SWEEP_INTERVAL_MS) {
      this.lastSweep.set(ns, at);
      cache.purgeStale();
    }
    if (cache.size < this.max) return cache;
    throw new StoreFullError(
      `dedupe store full for '${ns}': ${cache.size} live keys (the memory store keeps at most ${this.max} per registry and never forgets one before its TTL); new deliveries are refused until keys expire — use the dynamodb store for more`,
    );
  }
}

/** The service's own namespaces (`~jobs`, `~notices`): a registry name starts with a letter or digit. */
function isBookkeeping(namespace: string): boolean {
  return namespace.startsWith('~');
}

function ttlMs(ttlSeconds: number): number {
  return Math.max(1, Math.round(ttlSeconds * 1000));
}
