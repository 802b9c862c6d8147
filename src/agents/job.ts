import type { GocdSchemas } from '../contract/gocd.js';

/**
 * GoCD's `job_identifier` object, as sent in create-agent, should-assign-work and job-completion. `job_id` is GoCD's
 * build id: a rescheduled job gets a new one; it may be negative in GoCD's own tests.
 */
export type JobIdentifier = GocdSchemas['JobIdentifier'];

/** The `pipeline/counter/stage/counter/job` form used in tags, labels and reasons. */
export function jobPath(job: JobIdentifier): string {
  return `${job.pipeline_name}/${job.pipeline_counter}/${job.stage_name}/${job.stage_counter}/${job.job_name}`;
}

/**
 * An agent as GoCD lists it (`go.processor.elastic-agents.list-agents`); only the id is always there. States:
 * `agent_state` Idle | Building | LostContact | Missing | Unknown, `build_state` Idle | Building | Cancelled | Unknown,
 * `config_state` Pending | Enabled | Disabled.
 */
export type GocdAgent = GocdSchemas['GocdAgent'];

/** What the forwarder executes after server-ping / job-completion (DESIGN.md). */
export type AgentActions = GocdSchemas['AgentActionsReply']['agent_actions'];

/** StopTask `reason`: "Up to 255 characters are allowed in this message" (ECS StopTask API reference). */
export const STOP_REASON_MAX = 255;

/**
 * StopTask / stop reason of a job's agent once GoCD reported the job completed, within ECS's 255 characters: a long
 * pipeline/stage/job path is shortened in the middle of the reason, never at its end, so the trailing "completed"
 * that `isCompletionStopReason` looks for survives.
 */
export function completionStopReason(job: JobIdentifier): string {
  const head = 'GoCD job ';
  const tail = ' completed';
  const path = [...jobPath(job)];
  const room = STOP_REASON_MAX - head.length - tail.length;
  const fitted = path.length <= room ? path.join('') : `${path.slice(0, room - 1).join('')}…`;
  return `${head}${fitted}${tail}`;
}

/** True for a stop reason written by `completionStopReason`: that job ran, so it needs no agent again. */
export function isCompletionStopReason(reason: string | undefined): boolean {
  return reason !== undefined && /^GoCD job .+ completed$/.test(reason);
}
