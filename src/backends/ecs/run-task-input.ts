import { createHash } from 'node:crypto';
import type { RunTaskCommandInput, Tag, Task } from '@aws-sdk/client-ecs';
import type { AgentRecord } from '../../agents/agent-backend.port.js';
import { jobPath } from '../../agents/job.js';
import type { EcsLaunchRequest } from './ecs-profiles.js';
import { AGENT_CONTAINER, usesAwsvpc } from './task-definition.js';

/** ECS tag keys carrying the agent's identity (DESIGN.md "Agents"). */
export const TAG = {
  agentId: 'gocd-agent-scaler:agent-id',
  jobId: 'gocd-agent-scaler:job-id',
  clusterId: 'gocd-agent-scaler:cluster-id',
  pipeline: 'gocd-agent-scaler:pipeline',
  dockerMode: 'gocd-agent-scaler:docker-mode',
  /** A warm-pool agent (instead of job-id and pipeline): the hash of the profile it waits for. */
  pool: 'gocd-agent-scaler:warm-pool',
} as const;

/** `startedBy` of every task of a cluster profile: how ListTasks finds them, 100 per page. */
export function startedByFor(clusterId: string): string {
  return `gocd-agent-scaler/${clusterId}`;
}

/**
 * RunTask `clientToken` for a job's launch attempt: deterministic, so a repeated or concurrent create-agent for the
 * same job (any process, any Lambda container) is the same request to ECS; a new attempt number after a failed
 * launch gives a fresh token. 64 hex characters (ECS allows up to 64 of ASCII 33–126).
 */
export function clientTokenFor(clusterId: string, jobId: number | string, attempt: number): string {
  return createHash('sha256').update(`gocd-agent-scaler/${clusterId}/${jobId}/${attempt}`).digest('hex');
}

/** The RunTask input for one launch attempt (pure). */
export function buildRunTaskInput(
  request: EcsLaunchRequest,
  taskDefinitionArn: string,
  attempt: number,
): RunTaskCommandInput {
  const { cluster, profile, job } = request;
  const clusterTag: Tag = { key: TAG.clusterId, value: cluster.clusterId };
  const identity: Tag[] = job
    ? [
        { key: TAG.jobId, value: String(job.job_id) },
        clusterTag,
        { key: TAG.pipeline, value: jobPath(job).slice(0, 256) },
      ]
    : [{ key: TAG.pool, value: request.pool?.profileHash ?? '' }, clusterTag];
  const tags: Tag[] = [
    { key: TAG.agentId, value: request.agentId },
    ...identity,
    { key: TAG.dockerMode, value: profile.dockerMode },
  ];
  const input: RunTaskCommandInput = {
    cluster: cluster.cluster,
    taskDefinition: taskDefinitionArn,
    count: 1,
    startedBy: startedByFor(cluster.clusterId),
    // A pool agent's id is unique per launch (its nonce): its token is per agent id.
    clientToken: clientTokenFor(cluster.clusterId, job ? job.job_id : request.agentId, attempt),
    tags,
    // Our tags go on the task directly. Propagating the definition's tags would add its cluster-id tag, which is
    // the id of whichever cluster profile registered a shared family first.
    propagateTags: 'NONE',
    enableECSManagedTags: true,
    overrides: {
      containerOverrides: [
        {
          name: AGENT_CONTAINER,
          environment: Object.keys(request.jobEnv)
            .sort()
            .map((name) => ({ name, value: request.jobEnv[name] })),
        },
      ],
    },
  };
  if (profile.enableExecuteCommand) input.enableExecuteCommand = true;
  if (cluster.capacityProvider)
    input.capacityProviderStrategy = [{ capacityProvider: cluster.capacityProvider, weight: 1 }];
  else input.launchType = cluster.launchType ?? 'EC2';
  if (usesAwsvpc(cluster)) {
    input.networkConfiguration = {
      awsvpcConfiguration: {
        subnets: cluster.subnets,
        ...(cluster.securityGroups.length ? { securityGroups: cluster.securityGroups } : {}),
        assignPublicIp: cluster.assignPublicIp ? 'ENABLED' : 'DISABLED',
      },
    };
  }
  if (profile.dockerMode === 'socket') {
    // At most one socket agent per host, so the janitor's "created since the agent" never takes another job's
    // containers. `distinctInstance` separates the tasks of one *group* only, so every socket agent of every cluster
    // profile shares one group: two profiles may point at the same ECS cluster.
    input.group = SOCKET_GROUP;
    input.placementConstraints = [{ type: 'distinctInstance' }];
  }
  return input;
}

/** The task group of all socket-mode agents (groups are scoped to an ECS cluster). */
export const SOCKET_GROUP = 'gocd-agent-scaler-socket';

const STATUS: Record<string, AgentRecord['status']> = {
  PROVISIONING: 'pending',
  PENDING: 'pending',
  ACTIVATING: 'pending',
  RUNNING: 'running',
  DEACTIVATING: 'stopping',
  STOPPING: 'stopping',
  DEPROVISIONING: 'stopping',
  STOPPED: 'stopped',
  DELETED: 'stopped',
};

/** An ECS task as an AgentRecord, from its tags; undefined for tasks this service did not start. */
export function agentRecordOf(task: Task): AgentRecord | undefined {
  const tag = (key: string) => task.tags?.find((t) => t.key === key)?.value;
  const agentId = tag(TAG.agentId);
  const jobTag = tag(TAG.jobId);
  const jobId = jobTag === undefined ? Number.NaN : Number(jobTag);
  const pool = tag(TAG.pool);
  if (!agentId || !task.taskArn || (!Number.isFinite(jobId) && !pool)) return undefined;
  const stopped = task.desiredStatus === 'STOPPED' && task.lastStatus !== 'STOPPED' ? 'stopping' : undefined;
  const mode = tag(TAG.dockerMode);
  return {
    agentId,
    ...(Number.isFinite(jobId) ? { jobId } : { pool }),
    clusterId: tag(TAG.clusterId) ?? '',
    pipeline: tag(TAG.pipeline) ?? '',
    ref: task.taskArn,
    status: stopped ?? STATUS[task.lastStatus ?? ''] ?? 'pending',
    createdAt: task.createdAt ?? new Date(0),
    ...(task.startedAt ? { startedAt: task.startedAt } : {}),
    ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
    ...(mode === 'none' || mode === 'privileged' || mode === 'sidecar' || mode === 'socket'
      ? { dockerMode: mode }
      : {}),
  };
}
