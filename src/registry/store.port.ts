import type { StateStore } from '../agents/state-store.port.js';

/**
 * A small key-value store with per-key expiry. Dedupe claims and last-seen digests live here, so they survive
 * restarts and Lambda invocations when the store is shared (DynamoDB).
 *
 * Keys are `<namespace>|<rest>`, the namespace being the registry entry a key belongs to (see
 * `src/registry/dedupe-keys.ts`); a store may bound each namespace on its own (the memory store does).
 */
export interface KeyValueStore extends StateStore {
  /** Writes only when no live value exists; true when this call wrote it (atomic, also across processes). */
  putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Removes `key`; with `ifValue`, only while it still holds that value (a claim is released only by its owner). */
  delete(key: string, ifValue?: string): Promise<void>;
}

/** The namespace of a key: everything before its first `|` (the whole key when it has none). */
export function namespaceOf(key: string): string {
  const i = key.indexOf('|');
  return i < 0 ? key : key.slice(0, i);
}
