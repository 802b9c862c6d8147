import { createHash } from 'node:crypto';
import { clusterIdOfProperties } from './profiles.js';
import { type ForwarderAssignments, parsePoolAgentId, shouldAssignPoolWork } from './warm-pool-id.js';

/**
 * The elastic agent id of a job's agent: `ea-<job_id>-<8 hex>`. The hex part is derived from the cluster id and
 * job id, so every create-agent for the same job names the same agent.
 */
export function agentIdFor(clusterId: string, jobId: number): string {
  return `ea-${jobId}-${agentIdHex(clusterId, jobId)}`;
}

/** The 8-hex part of a job's agent id: a hash of the cluster id and the job id. */
function agentIdHex(clusterId: string, jobId: number): string {
  return createHash('sha256').update(`${clusterId}\0${jobId}`).digest('hex').slice(0, 8);
}

/**
 * The cluster id of a should-assign-work body's `cluster_profile_properties`, as create-agent derived it (its
 * `cluster_id`, else the hash of its properties); undefined unless it is an object of string (or null) values, as
 * GoCD sends it: the forwarder's copy of this rule must reach the same id byte for byte.
 */
function clusterIdOf(properties: unknown): string | undefined {
  if (!properties || typeof properties !== 'object' || Array.isArray(properties)) return undefined;
  const raw = properties as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    const v = raw[key];
    if (v !== null && typeof v !== 'string') return undefined;
  }
  return clusterIdOfProperties(raw);
}

/** The job id encoded in an elastic agent id, or undefined for ids this service did not make. */
export function jobIdOfAgentId(agentId: string): number | undefined {
  const m = /^ea-(-?\d+)-[0-9a-f]{8}$/.exec(agentId);
  return m ? Number(m[1]) : undefined;
}

/**
 * should-assign-work, the pure rule shared with the forwarder: an agent takes only the job it was made for — its id's
 * job part equals the job's id and its hex part is the one derived for that job on this cluster profile, so an agent
 * registered under a made-up `ea-<job>-<hex>` id (with a leaked auto-register key) gets no job. A warm-pool agent
 * (`ea-pool-…`) takes one job of exactly its profile, judged with what the forwarder knows (`forwarder`; see
 * shouldAssignPoolWork): without it, none. Anything malformed answers false, never an error (GoCD asks inside its
 * locked assignment loop).
 */
export function shouldAssignWork(body: unknown, forwarder?: ForwarderAssignments): boolean {
  // Stryker disable next-line ConditionalExpression: a JSON body that is a string, number or boolean has no agent or job_identifier either, so the checks below answer false for it anyway
  if (!body || typeof body !== 'object') return false;
  const { agent, job_identifier } = body as { agent?: { agent_id?: unknown }; job_identifier?: { job_id?: unknown } };
  const agentId = agent?.agent_id;
  const jobId = job_identifier?.job_id;
  if (typeof agentId !== 'string' || !isSafeInteger(jobId)) return false;
  const clusterId = clusterIdOf((body as { cluster_profile_properties?: unknown }).cluster_profile_properties);
  if (clusterId === undefined) return false;
  const pool = parsePoolAgentId(agentId);
  if (pool) return shouldAssignPoolWork(pool, agentId, jobId, clusterId, body as object, forwarder);
  if (jobIdOfAgentId(agentId) !== jobId) return false;
  return agentId.endsWith(`-${agentIdHex(clusterId, jobId)}`);
}

/** A job id GoCD can send: a number with no fraction that a double holds exactly (so its id names one job). */
function isSafeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value);
}
