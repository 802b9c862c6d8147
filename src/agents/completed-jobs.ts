import { LRUCache } from 'lru-cache';
import type { StateStore } from './state-store.port.js';

/**
 * How long a job-completed mark is kept: beyond the 24 h for which ECS honours a RunTask client token
 * (ECS_Idempotency), so a stale create-agent arriving after the token expired still finds the mark.
 */
export const COMPLETED_MARK_TTL_SECONDS = 7 * 24 * 3600;

/**
 * The jobs whose job-completion was handled. GoCD never runs a job id twice (a rescheduled job gets a new id), so a
 * create-agent for one of them is stale — sent while the job waited, processed after it ran — and must launch
 * nothing. The mark lives in the store (DynamoDB in Lambda), so every process and Lambda container sees it, also after
 * a restart; a small local cache answers repeats without a store read.
 */
export class CompletedJobs {
  private readonly local = new LRUCache<string, true>({ max: 20_000, ttl: COMPLETED_MARK_TTL_SECONDS * 1000 });

  constructor(private readonly store?: StateStore) {}

  private key(clusterId: string, jobId: number): string {
    // Its own store namespace (see store.port.ts): no registry name starts with `~`.
    return `~jobs|completed/${clusterId}/${jobId}`;
  }

  /** Marks the job completed (the store write may throw: the caller reports it; the local mark stays). */
  async mark(clusterId: string, jobId: number): Promise<void> {
    const key = this.key(clusterId, jobId);
    this.local.set(key, true);
    await this.store?.put(key, '1', COMPLETED_MARK_TTL_SECONDS);
  }

  /** True when this job's completion was handled here or by any process sharing the store. */
  async has(clusterId: string, jobId: number): Promise<boolean> {
    const key = this.key(clusterId, jobId);
    if (this.local.has(key)) return true;
    if (!this.store) return false;
    const found = (await this.store.get(key)) !== undefined;
    if (found) this.local.set(key, true);
    return found;
  }
}
