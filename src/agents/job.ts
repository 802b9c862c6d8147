/** GoCD's `job_identifier` object, as sent in create-agent, should-assign-work and job-completion. */
export interface JobIdentifier {
  pipeline_name: string;
  pipeline_counter: number;
  pipeline_label?: string;
  stage_name: string;
  stage_counter: string;
  job_name: string;
  /** GoCD's build id; a rescheduled job gets a new one. May be negative in GoCD's own tests. */
  job_id: number;
}

/** The `pipeline/counter/stage/counter/job` form used in tags, labels and reasons. */
export function jobPath(job: JobIdentifier): string {
  return `${job.pipeline_name}/${job.pipeline_counter}/${job.stage_name}/${job.stage_counter}/${job.job_name}`;
}

/** An agent as GoCD lists it (`go.processor.elastic-agents.list-agents`); only the id is always there. */
export interface GocdAgent {
  agent_id: string;
  agent_state?: 'Idle' | 'Building' | 'LostContact' | 'Missing' | 'Unknown' | (string & {});
  build_state?: 'Idle' | 'Building' | 'Cancelled' | 'Unknown' | (string & {});
  config_state?: 'Pending' | 'Enabled' | 'Disabled' | (string & {});
}

/** What the forwarder executes after server-ping / job-completion (DESIGN.md). */
export interface AgentActions {
  disable: string[];
  delete: string[];
}

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
