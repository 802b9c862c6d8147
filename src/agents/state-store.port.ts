/**
 * Where the lifecycle keeps what must outlive a process or a Lambda container (job-completed marks, what GoCD users
 * were told): a key-value store with per-key expiry, shared (DynamoDB) in deployments with more than one process. The
 * registry's store (src/registry/store.port.ts) is one; keys are `<namespace>|<rest>`, and the lifecycle's namespaces
 * start with `~` so that no registry entry's can be one of them.
 */
export interface StateStore {
  /** The live value of `key`, or undefined when absent or expired. */
  get(key: string): Promise<string | undefined>;
  /** Writes `value` unconditionally; it expires after `ttlSeconds`. */
  put(key: string, value: string, ttlSeconds: number): Promise<void>;
}
