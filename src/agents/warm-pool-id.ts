import { createHash } from 'node:crypto';

/**
 * Warm-pool agent identity, shared byte for byte with the forwarder (gocd-plugin ShouldAssignWorkRule, the tables
 * test/fixtures/profile-hash-cases.json and should-assign-work-cases.json).
 *
 * A pool agent's id is `ea-pool-<profile hash, 12 hex>-<forwarder instance, 8 hex>-<nonce, 8 hex>`:
 * - the profile hash names exactly one (cluster id, GoCD environment, elastic profile) — the only jobs it may take;
 * - the forwarder instance is the random id the forwarder draws when GoCD loads it (sent with every server-ping): a
 *   forwarder accepts pool agents of its own instance only, so a restart (which loses its memory of which pool agents
 *   already took a job) makes every older pool agent unusable instead of reusable;
 * - the nonce tells the pool's agents apart.
 */
const POOL_AGENT_ID = /^ea-pool-([0-9a-f]{12})-([0-9a-f]{8})-([0-9a-f]{8})$/;

/** The forwarder instance id's form: 8 lowercase hex. */
export const FORWARDER_INSTANCE = /^[0-9a-f]{8}$/;

/** Elastic-profile keys that size the pool rather than define the agent: changing them keeps the pool's agents. */
export const POOL_SIZING_KEYS = ['warm_pool_size', 'warm_pool_idle_minutes', 'warm_pool_schedule'] as const;

/** A property as the canonical hash reads it: a string trimmed as String.prototype.trim, blank = absent. */
function canonicalValue(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

/**
 * The canonical hash of an elastic profile within its cluster and GoCD environment: SHA-256 (UTF-8; lone surrogates
 * as U+FFFD) of `pool\0<cluster id>\0<environment, trimmed, or empty>\0<lines>`, where the lines are `key=value` of
 * every non-blank property except the sizing keys, sorted by key in UTF-16 code-unit order, joined by `\n`; its first
 * 12 hex. Undefined unless the properties are an object of strings and nulls (as GoCD sends them).
 */
export function profileHash(clusterId: string, environment: unknown, properties: unknown): string | undefined {
  if (!properties || typeof properties !== 'object' || Array.isArray(properties)) return undefined;
  const raw = properties as Record<string, unknown>;
  const lines: string[] = [];
  for (const key of Object.keys(raw).sort()) {
    const v = raw[key];
    if (v !== null && typeof v !== 'string') return undefined;
    if ((POOL_SIZING_KEYS as readonly string[]).includes(key)) continue;
    const value = canonicalValue(v);
    if (value !== undefined) lines.push(`${key}=${value}`);
  }
  const env = typeof environment === 'string' ? environment.trim() : '';
  return createHash('sha256')
    .update(`pool\0${clusterId}\0${env}\0${lines.join('\n')}`)
    .digest('hex')
    .slice(0, 12);
}

export interface PoolAgentId {
  profileHash: string;
  instance: string;
  nonce: string;
}

/** The parts of a pool agent's id, or undefined when it is not one. */
export function parsePoolAgentId(agentId: string): PoolAgentId | undefined {
  const m = POOL_AGENT_ID.exec(agentId);
  return m ? { profileHash: m[1]!, instance: m[2]!, nonce: m[3]! } : undefined;
}

/** A pool agent's id. */
export function poolAgentId(parts: PoolAgentId): string {
  return `ea-pool-${parts.profileHash}-${parts.instance}-${parts.nonce}`;
}

/**
 * What the forwarder knows when it answers should-assign-work for a pool agent: its own instance id, and which job
 * (if any) it already let each pool agent take. Without it (the service's own route) a pool agent takes no job.
 */
export interface ForwarderAssignments {
  instance: string;
  /** The job id this pool agent was already given, or undefined when none. */
  claimedJob(agentId: string): number | undefined;
}

/**
 * should-assign-work for a pool agent (`agentId` already parsed): true iff the forwarder knows its instance and it is
 * the agent's, the agent has taken no job or exactly this one (GoCD asks again for the same job when the first
 * assignment did not go through), and the job's profile (cluster id, environment, elastic profile) hashes to the
 * agent's. The caller records the claim when this answers true.
 */
export function shouldAssignPoolWork(
  pool: PoolAgentId,
  agentId: string,
  jobId: number,
  clusterId: string,
  body: { environment?: unknown; elastic_agent_profile_properties?: unknown },
  forwarder: ForwarderAssignments | undefined,
): boolean {
  if (!forwarder || forwarder.instance !== pool.instance) return false;
  const claimed = forwarder.claimedJob(agentId);
  if (claimed !== undefined && claimed !== jobId) return false;
  return profileHash(clusterId, body.environment, body.elastic_agent_profile_properties) === pool.profileHash;
}
