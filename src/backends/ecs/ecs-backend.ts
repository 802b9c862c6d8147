import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConflictException,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  paginateListTasks,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type RunTaskCommandOutput,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { jobPath } from '../../agents/job.js';
import type { ClusterProfile, ElasticProfile } from '../../agents/profiles.js';
import { BackendUnavailableError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { AgentBackend, AgentDetails, AgentRecord, LaunchOutcome, LaunchRequest } from '../port.js';
import { agentRecordOf, buildRunTaskInput, startedByFor } from './run-task-input.js';
import { AGENT_CONTAINER, buildTaskDefinition, taskDefinitionFamily } from './task-definition.js';

export interface EcsBackendOptions {
  logger: Logger;
  /** Launch attempts (fresh client tokens) tried before a job is reported as not launchable. */
  maxAttempts?: number;
  /** Delays before re-describing a task ECS reports MISSING right after it was launched (eventual consistency). */
  missingRetryDelaysMs?: number[];
  /** DescribeTasks batches in flight at once while listing. */
  describeConcurrency?: number;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Runs `work` over `items` with at most `limit` promises in flight, keeping order. */
async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  });
  await Promise.all(lanes);
  return out;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The ECS backend: one task per agent, found again by `startedBy` + tags (never by memory), launched idempotently
 * with a deterministic RunTask client token per (cluster, job, attempt).
 */
export class EcsBackend implements AgentBackend {
  readonly kind = 'ecs' as const;
  private readonly taskDefinitions = new Map<string, Promise<string>>();
  private readonly maxAttempts: number;
  private readonly missingDelays: number[];
  private readonly concurrency: number;

  constructor(
    private readonly client: ECSClient,
    private readonly options: EcsBackendOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 20;
    this.missingDelays = options.missingRetryDelaysMs ?? [1000, 3000];
    this.concurrency = options.describeConcurrency ?? 4;
  }

  /**
   * The task definition ARN for a profile: the profile's own `task_definition`, else the family of its content
   * hash — described first (registered by an earlier process or Lambda container), registered only when absent.
   */
  taskDefinitionFor(cluster: ClusterProfile, profile: ElasticProfile): Promise<string> {
    if (profile.taskDefinition) return Promise.resolve(profile.taskDefinition);
    const family = taskDefinitionFamily(cluster, profile);
    let arn = this.taskDefinitions.get(family);
    if (!arn) {
      arn = this.findOrRegister(cluster, profile, family);
      arn.catch(() => this.taskDefinitions.delete(family));
      this.taskDefinitions.set(family, arn);
    }
    return arn;
  }

  private async findOrRegister(cluster: ClusterProfile, profile: ElasticProfile, family: string): Promise<string> {
    try {
      const found = await this.client.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }));
      const td = found.taskDefinition;
      if (td?.taskDefinitionArn && td.status === 'ACTIVE') return td.taskDefinitionArn;
    } catch (err) {
      // ECS answers an unknown family with ClientException ("Unable to describe task definition"): register it.
      if ((err as Error).name !== 'ClientException') throw err;
    }
    const registered = await this.client.send(new RegisterTaskDefinitionCommand(buildTaskDefinition(cluster, profile)));
    const arn = registered.taskDefinition?.taskDefinitionArn;
    if (!arn) throw new Error(`RegisterTaskDefinition returned no ARN for ${family}`);
    this.options.logger.info({ family, arn }, 'registered task definition');
    return arn;
  }

  async launch(request: LaunchRequest): Promise<LaunchOutcome> {
    const { cluster } = request;
    const log = this.options.logger.child({ agentId: request.agentId, jobId: request.job.job_id });
    let taskDefinition: string;
    try {
      taskDefinition = await this.taskDefinitionFor(cluster, request.profile);
    } catch (err) {
      return { kind: 'failed', reason: 'task definition unavailable', detail: describe(err) };
    }
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const input = buildRunTaskInput(request, taskDefinition, attempt);
      let result: RunTaskCommandOutput;
      try {
        result = await this.client.send(new RunTaskCommand(input));
      } catch (err) {
        if (!(err instanceof ConflictException))
          return { kind: 'failed', reason: (err as Error).name, detail: (err as Error).message };
        // The token is already tied to a launch (an earlier create-agent for this job, with another key). Live task →
        // this attempt is launched; STOPPED or MISSING (or none) → that launch failed, the next attempt gets a new token.
        const live = await this.liveTaskOf(cluster, err.resourceIds ?? []);
        if (live) {
          const agent = agentRecordOf(live);
          if (agent) return { kind: 'existing', agent };
          return { kind: 'existing', agent: this.untaggedRecord(request, live) };
        }
        log.info({ attempt }, 'launch attempt already used by a stopped or failed task; trying the next attempt');
        continue;
      }
      const task = result.tasks?.[0];
      if (task) {
        return { kind: 'launched', agent: agentRecordOf(task) ?? this.untaggedRecord(request, task) };
      }
      // Placement failures (RESOURCE:MEMORY, AGENT, capacity): nothing started. The next create-agent (GoCD re-sends
      // every 2 minutes) moves past this attempt because its token now answers Conflict without a live task.
      const failure = result.failures?.[0];
      return {
        kind: 'failed',
        reason: failure?.reason ?? 'RunTask started no task',
        detail: [failure?.detail, failure?.arn].filter(Boolean).join(' ') || undefined,
      };
    }
    return {
      kind: 'failed',
      reason: `no launch attempt left for this job (${this.maxAttempts} tried within ECS's 24 h token window)`,
    };
  }

  /** A task started with our tags but described without them (tags not yet visible): build its record from the request. */
  private untaggedRecord(request: LaunchRequest, task: Task): AgentRecord {
    return {
      agentId: request.agentId,
      jobId: request.job.job_id,
      clusterId: request.cluster.clusterId,
      pipeline: jobPath(request.job),
      ref: task.taskArn ?? 'unknown',
      status: 'pending',
      createdAt: task.createdAt ?? new Date(),
      dockerMode: request.profile.dockerMode,
    };
  }

  /**
   * The first of `arns` that is not stopped. ECS may not yet describe a task it has just launched (MISSING right after
   * RunTask): re-describe after short delays before concluding the launch failed, so no duplicate is started.
   */
  private async liveTaskOf(cluster: ClusterProfile, arns: string[]): Promise<Task | undefined> {
    if (arns.length === 0) return undefined;
    for (let i = 0; ; i++) {
      const res = await this.client.send(
        new DescribeTasksCommand({ cluster: cluster.cluster, tasks: arns.slice(0, 100), include: ['TAGS'] }),
      );
      const live = (res.tasks ?? []).find((t) => t.lastStatus !== 'STOPPED' && t.desiredStatus !== 'STOPPED');
      if (live) return live;
      const missing = (res.failures ?? []).some((f) => f.reason === 'MISSING');
      if (!missing || i >= this.missingDelays.length) return undefined;
      await sleep(this.missingDelays[i]);
    }
  }

  /** Every live task of the cluster profile: ⌈N/100⌉ ListTasks pages + ⌈N/100⌉ DescribeTasks calls. */
  private async liveTasks(cluster: ClusterProfile): Promise<Task[]> {
    const arns: string[] = [];
    try {
      // `startedBy` must be ListTasks' only filter; it returns tasks whose desired status is RUNNING.
      for await (const page of paginateListTasks(
        { client: this.client, pageSize: 100 },
        { cluster: cluster.cluster, startedBy: startedByFor(cluster.clusterId) },
      )) {
        arns.push(...(page.taskArns ?? []));
      }
      const batches = await mapLimit(chunks(arns, 100), this.concurrency, async (tasks) =>
        this.client.send(new DescribeTasksCommand({ cluster: cluster.cluster, tasks, include: ['TAGS'] })),
      );
      return batches.flatMap((b) => b.tasks ?? []);
    } catch (err) {
      throw new BackendUnavailableError(`listing ECS tasks of ${cluster.cluster} failed: ${describe(err)}`, {
        cause: err,
      });
    }
  }

  async list(cluster: ClusterProfile): Promise<AgentRecord[]> {
    const tasks = await this.liveTasks(cluster);
    return tasks
      .map(agentRecordOf)
      .filter((a): a is AgentRecord => a !== undefined && a.status !== 'stopped' && a.clusterId === cluster.clusterId);
  }

  async stop(cluster: ClusterProfile, agents: readonly AgentRecord[], reason: string): Promise<void> {
    for (const agent of agents) {
      try {
        await this.client.send(
          new StopTaskCommand({ cluster: cluster.cluster, task: agent.ref, reason: reason.slice(0, 255) }),
        );
      } catch (err) {
        // An unknown or already-gone task is what we wanted.
        if (
          (err as Error).name === 'InvalidParameterException' &&
          /not found|does not exist/i.test((err as Error).message)
        )
          continue;
        throw err;
      }
    }
  }

  async inspect(cluster: ClusterProfile, agentId: string): Promise<AgentDetails | undefined> {
    const task = (await this.liveTasks(cluster)).find((t) => agentRecordOf(t)?.agentId === agentId);
    const agent = task && agentRecordOf(task);
    if (!task || !agent) return undefined;
    const environment: Record<string, string> = {};
    if (task.taskDefinitionArn) {
      const td = await this.client.send(new DescribeTaskDefinitionCommand({ taskDefinition: task.taskDefinitionArn }));
      for (const kv of td.taskDefinition?.containerDefinitions?.find((c) => c.name === AGENT_CONTAINER)?.environment ??
        []) {
        if (kv.name) environment[kv.name] = kv.value ?? '';
      }
    }
    for (const kv of task.overrides?.containerOverrides?.find((c) => c.name === AGENT_CONTAINER)?.environment ?? []) {
      if (kv.name) environment[kv.name] = kv.value ?? '';
    }
    if (environment.GO_EA_AUTO_REGISTER_KEY) environment.GO_EA_AUTO_REGISTER_KEY = '***';
    const [, region, , taskPath] = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):(\d+):task\/(.+)$/.exec(task.taskArn ?? '') ?? [];
    const taskId = taskPath?.split('/').pop();
    const links: AgentDetails['links'] = [];
    if (region && taskId) {
      links.push({
        label: 'ECS console',
        url: `https://${region}.console.aws.amazon.com/ecs/v2/clusters/${cluster.cluster}/tasks/${taskId}`,
      });
      if (cluster.logGroup) {
        const enc = (s: string) => encodeURIComponent(encodeURIComponent(s)).replace(/%/g, '$');
        links.push({
          label: 'agent log',
          url: `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${enc(cluster.logGroup)}/log-events/${enc(`gocd-agent/${AGENT_CONTAINER}/${taskId}`)}`,
        });
      }
    }
    return {
      agent,
      containers: (task.containers ?? []).map((c) => ({
        name: c.name ?? '',
        ...(c.image ? { image: c.image } : {}),
        ...(c.lastStatus ? { status: c.lastStatus } : {}),
        ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
        ...(c.reason ? { reason: c.reason } : {}),
      })),
      environment,
      links,
    };
  }
}
