import { createHash } from 'node:crypto';

const AGENT_ID = /^ea-(-?\d+)-[0-9a-f]{8}$/;

/**
 * The elastic agent id of a job's agent: `ea-<job_id>-<8 hex>`. The hex part is derived from the cluster id and
 * job id, so every create-agent for the same job names the same agent.
 */
export function agentIdFor(clusterId: string, jobId: number): string {
  const hex = createHash('sha256').update(`${clusterId}\0${jobId}`).digest('hex').slice(0, 8);
  return `ea-${jobId}-${hex}`;
}

/** The job id encoded in an elastic agent id, or undefined for ids this service did not make. */
export function jobIdOfAgentId(agentId: string): number | undefined {
  const m = AGENT_ID.exec(agentId);
  return m ? Number(m[1]) : undefined;
}

/**
 * should-assign-work, the pure rule shared with the forwarder: an agent takes only the job it was made for.
 * Anything malformed answers false, never an error (GoCD asks inside its locked assignment loop).
 */
export function shouldAssignWork(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const { agent, job_identifier } = body as { agent?: { agent_id?: unknown }; job_identifier?: { job_id?: unknown } };
  const agentId = agent?.agent_id;
  const jobId = job_identifier?.job_id;
  if (typeof agentId !== 'string' || typeof jobId !== 'number' || !Number.isSafeInteger(jobId)) return false;
  return jobIdOfAgentId(agentId) === jobId;
}
