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
import type { AgentBackend, AgentDetails, AgentRecord, LaunchOutcome } from '../../agents/agent-backend.port.js';
import { isCompletionStopReason, jobPath, STOP_REASON_MAX } from '../../agents/job.js';
import { BackendUnavailableError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { retryWhileThrottled } from '../../throttle-retry.js';
import { isThrottling } from './ecs-clients.js';
import type { EcsClusterProfile, EcsElasticProfile, EcsLaunchRequest } from './ecs-profiles.js';
import { ExternalTaskDefinitions } from './external-task-definition.js';
import { ECS_RUN_TASK_QUOTA, type RateQuota, RequestPacer } from './request-pacer.js';
import { agentRecordOf, buildRunTaskInput, startedByFor } from './run-task-input.js';
import { AGENT_CONTAINER, buildTaskDefinition, definitionHash, TD_TAG } from './task-definition.js';

/** Tuning of the ECS backend; every field has a production default. */
export interface EcsBackendOptions {
  logger: Logger;
  /** Launch attempts (fresh client tokens) per job before it is reported as not launchable; default 20. */
  maxAttempts?: number;
  /** Delays before re-describing a conflicting task ECS reports MISSING (eventual consistency); default 1 s, 3 s. */
  missingRetryDelaysMs?: number[];
  /** How long a task this backend launched counts as live while ECS still reports it MISSING; default 5 min. */
  recentLaunchGraceMs?: number;
  /** DescribeTasks batches (and StopTask calls) in flight at once; default 4. */
  concurrency?: number;
  /** ECS's RunTask/StartTask/StopTask bucket, which this backend paces its calls to; default 100, 40/s. */
  runTaskQuota?: RateQuota;
  /** How long a call may wait out ECS throttling when the request names no deadline (server-ping); default 5 min. */
  throttleWaitMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
  /**
   * An abort signal that fires at `deadline` (epoch ms on `now`'s clock): every ECS call is sent with it, so the SDK's
   * own retries end there too. Default: a timer for `deadline - now()`.
   */
  deadlineSignal?: (deadline: number) => AbortSignal;
}

/** A call that ECS kept throttling until its deadline, or that its deadline cut off. */
const THROTTLED = Symbol('throttled');

/** An ECS call cut off at its request's deadline (within the SDK's retries, or waiting for an answer). */
class DeadlinePassedError extends Error {
  override name = 'DeadlinePassedError';
}

/** What every ECS call is sent with: the request's deadline as an abort signal. */
interface CallOptions {
  abortSignal: AbortSignal;
}

/** Longest timer Node accepts (ms); a later deadline is as good as none. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const TASK_STATUS_DONE = 'STOPPED';

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Runs `work` over `items` with at most `limit` promises in flight, keeping order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
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

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const isLive = (t: Task) => t.lastStatus !== TASK_STATUS_DONE && t.desiredStatus !== TASK_STATUS_DONE;

/**
 * The ECS backend: one task per agent, found again by `startedBy` + tags (never by memory), launched idempotently
 * with a deterministic RunTask client token per (cluster, job, attempt). One instance per ECSClient.
 */
export class EcsBackend implements AgentBackend<EcsClusterProfile, EcsElasticProfile> {
  readonly kind = 'ecs' as const;
  /** Task definition ARN per (family, definition hash): resolved once per process, never per job. */
  private readonly taskDefinitions = new Map<string, Promise<string>>();
  /** Profiles' own task definitions, described and held to the gates (external-task-definition.ts). */
  private readonly external: ExternalTaskDefinitions;
  /** Task ARNs this backend launched, with the time, for the MISSING grace rule (bounded, pruned on use). */
  private readonly launched = new Map<string, number>();
  private readonly maxAttempts: number;
  private readonly missingDelays: number[];
  private readonly graceMs: number;
  private readonly concurrency: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<unknown>;
  private readonly throttleWaitMs: number;
  private readonly deadlineSignal: (deadline: number) => AbortSignal;
  /** Paces RunTask and StopTask to ECS's bucket (one per client: per account and Region). */
  readonly pacer: RequestPacer;

  constructor(
    private readonly client: ECSClient,
    private readonly options: EcsBackendOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 20;
    this.missingDelays = options.missingRetryDelaysMs ?? [1000, 3000];
    this.graceMs = options.recentLaunchGraceMs ?? 300_000;
    this.concurrency = options.concurrency ?? 4;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleep;
    this.throttleWaitMs = options.throttleWaitMs ?? 300_000;
    this.deadlineSignal =
      options.deadlineSignal ??
      ((deadline) => AbortSignal.timeout(Math.min(MAX_TIMER_MS, Math.max(0, deadline - this.now()))));
    this.pacer = new RequestPacer(options.runTaskQuota ?? ECS_RUN_TASK_QUOTA, this.now, this.sleep);
    this.external = new ExternalTaskDefinitions(client, { now: this.now });
  }

  /**
   * A RunTask/StopTask call in its turn of ECS's bucket; a call ECS still throttles (after the SDK's retries) waits
   * for the next turn. THROTTLED when no turn comes before `deadline`: the caller reports it, nothing failed.
   */
  private async paced<T>(deadline: number, call: (options: CallOptions) => Promise<T>): Promise<T | typeof THROTTLED> {
    for (;;) {
      if (!(await this.pacer.acquire(deadline))) return THROTTLED;
      try {
        return await this.bounded(deadline, call);
      } catch (err) {
        if (err instanceof DeadlinePassedError) return THROTTLED;
        if (!isThrottling(err)) throw err;
        this.pacer.throttled();
      }
    }
  }

  /** A read call (its own ECS bucket) retried with backoff while throttled, until `deadline`. */
  private async retryThrottled<T>(
    deadline: number,
    call: (options: CallOptions) => Promise<T>,
  ): Promise<T | typeof THROTTLED> {
    try {
      return await retryWhileThrottled(() => this.bounded(deadline, call), {
        isThrottled: isThrottling,
        deadline,
        now: this.now,
        sleep: this.sleep,
      });
    } catch (err) {
      if (isThrottling(err) || err instanceof DeadlinePassedError) return THROTTLED;
      throw err;
    }
  }

  /**
   * One ECS call sent with an abort signal at `deadline`: it ends by then, the SDK's own retries included (a RunTask
   * cut off after ECS took it is safe: the next create-agent sends the same client token). DeadlinePassedError then.
   */
  private async bounded<T>(deadline: number, call: (options: CallOptions) => Promise<T>): Promise<T> {
    const abortSignal = this.deadlineSignal(deadline);
    try {
      return await call({ abortSignal });
    } catch (err) {
      if (abortSignal.aborted) throw new DeadlinePassedError('the request deadline passed', { cause: err });
      throw err;
    }
  }

  /**
   * The task definition this service registers for a profile: the family of its content hash — described first (registered by an earlier process, a restart or another Lambda container) and registered only
   * when absent or when the latest revision's content differs from what this service would register.
   */
  async taskDefinitionFor(cluster: EcsClusterProfile, profile: EcsElasticProfile, deadline?: number): Promise<string> {
    const region = cluster.region ?? (await this.client.config.region().catch(() => undefined));
    const input = buildTaskDefinition(cluster, profile, { region });
    const hash = definitionHash(input);
    const key = `${input.family}@${hash}`;
    let arn = this.taskDefinitions.get(key);
    if (!arn) {
      arn = this.findOrRegister(input, hash, deadline ?? this.now() + this.throttleWaitMs);
      // A failed lookup is not cached: the next launch tries again.
      arn.catch(() => this.taskDefinitions.delete(key));
      this.taskDefinitions.set(key, arn);
    }
    return arn;
  }

  private async findOrRegister(
    input: ReturnType<typeof buildTaskDefinition>,
    hash: string,
    deadline: number,
  ): Promise<string> {
    const family = input.family!;
    const throttled = () =>
      new BackendUnavailableError(`ECS throttled the task definition calls of ${family}`, { throttled: true });
    try {
      const found = await this.retryThrottled(deadline, (o) =>
        this.client.send(new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ['TAGS'] }), o),
      );
      if (found === THROTTLED) throw throttled();
      const td = found.taskDefinition;
      const foundHash = found.tags?.find((t) => t.key === TD_TAG.definitionHash)?.value;
      if (td?.taskDefinitionArn && td.status === 'ACTIVE' && foundHash === hash) return td.taskDefinitionArn;
    } catch (err) {
      // ECS answers a family without an ACTIVE revision with ClientException ("Unable to describe task definition").
      if ((err as Error).name !== 'ClientException') throw err;
    }
    const registered = await this.retryThrottled(deadline, (o) =>
      this.client.send(new RegisterTaskDefinitionCommand(input), o),
    );
    if (registered === THROTTLED) throw throttled();
    const arn = registered.taskDefinition?.taskDefinitionArn;
    if (!arn) throw new Error(`RegisterTaskDefinition returned no ARN for ${family}`);
    this.options.logger.info({ family, arn, definitionHash: hash }, 'registered task definition');
    return arn;
  }

  async launch(original: EcsLaunchRequest): Promise<LaunchOutcome> {
    const { cluster, profile } = original;
    const log = this.options.logger.child({ agentId: original.agentId, jobId: original.job.job_id });
    // Throttling is waited out until here (the request's deadline: Lambda's budget), never turned into a failure.
    const deadline = original.deadline ?? this.now() + this.throttleWaitMs;
    const throttled = (what: string): LaunchOutcome => ({ kind: 'throttled', detail: `ECS throttled ${what}` });
    let taskDefinition: string;
    // A profile's own task definition is run as the exact revision that was vetted, with its real Docker mode.
    let request = original;
    try {
      if (profile.taskDefinition) {
        const vetted = await this.bounded(deadline, (o) => this.external.vet(original, o.abortSignal));
        if (vetted.kind === 'refused') return vetted;
        taskDefinition = vetted.arn;
        request = vetted.request;
      } else {
        taskDefinition = await this.taskDefinitionFor(cluster, profile, deadline);
      }
    } catch (err) {
      // A throttled DescribeTaskDefinition of the profile's own family (after the SDK's retries) is a wait, not a failure.
      if (
        (err instanceof BackendUnavailableError && err.throttled) ||
        isThrottling(err) ||
        err instanceof DeadlinePassedError
      )
        return throttled('the task definition calls');
      return { kind: 'failed', reason: 'task definition unavailable', detail: describeError(err) };
    }
    // Attempt n uses token(cluster, job, n). A token ECS already saw with other parameters (another auto-register
    // key: an earlier or concurrent create-agent) answers ConflictException naming its tasks: a live one means this
    // job is launched; a stopped or missing one (or none: a launch that placed nothing) means that attempt failed,
    // so the next attempt number, with a fresh token, is tried. Bounded: ECS keeps tokens for 24 h.
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const input = buildRunTaskInput(request, taskDefinition, attempt);
      let result: RunTaskCommandOutput | typeof THROTTLED;
      try {
        result = await this.paced(deadline, (o) => this.client.send(new RunTaskCommand(input), o));
      } catch (err) {
        if (!(err instanceof ConflictException)) {
          if (/task ?definition/i.test((err as Error).message ?? '')) {
            this.forgetTaskDefinition(taskDefinition);
            this.external.forget(taskDefinition);
          }
          return { kind: 'failed', reason: (err as Error).name, detail: (err as Error).message };
        }
        let earlier: { task: Task; completed: boolean } | undefined | typeof THROTTLED;
        try {
          earlier = await this.earlierLaunchOf(cluster, err.resourceIds ?? [], deadline);
        } catch (describeErr) {
          return {
            kind: 'failed',
            reason: 'could not check the earlier launch of this job',
            detail: describeError(describeErr),
          };
        }
        if (earlier === THROTTLED) return throttled('DescribeTasks of the earlier launch');
        // A live task, or one stopped because its job completed (a stale create-agent handled by another process or
        // Lambda container after the job ran): either way this job has had its agent, and nothing new is started.
        if (earlier) {
          const agent = agentRecordOf(earlier.task) ?? this.recordFromRequest(request, earlier.task);
          return { kind: 'existing', agent: earlier.completed ? { ...agent, status: 'stopped' } : agent };
        }
        log.info({ attempt }, 'launch attempt already used by a stopped or failed launch; trying the next attempt');
        continue;
      }
      if (result === THROTTLED) return throttled('RunTask');
      const task = result.tasks?.[0];
      if (task?.taskArn) {
        this.rememberLaunch(task.taskArn);
        return { kind: 'launched', agent: agentRecordOf(task) ?? this.recordFromRequest(request, task) };
      }
      // Placement failures (RESOURCE:MEMORY, AGENT, capacity): nothing started. The next create-agent (GoCD re-sends
      // every 2 minutes) moves past this attempt, because its token now answers Conflict without a live task.
      const failure = result.failures?.[0];
      return {
        kind: 'failed',
        reason: failure?.reason ?? 'RunTask started no task',
        ...(failure?.detail || failure?.arn ? { detail: [failure.detail, failure.arn].filter(Boolean).join(' ') } : {}),
      };
    }
    return {
      kind: 'failed',
      reason: `no launch attempt left for this job: ${this.maxAttempts} client tokens already used (ECS keeps them 24 h)`,
    };
  }

  /** A task ECS rejected a RunTask for (e.g. its revision was deregistered): resolve the definition again next time. */
  private forgetTaskDefinition(arn: string): void {
    for (const [key, value] of this.taskDefinitions) {
      void value.then(
        (cached) => cached === arn && this.taskDefinitions.delete(key),
        () => undefined,
      );
    }
  }

  private rememberLaunch(arn: string): void {
    const now = this.now();
    for (const [known, at] of this.launched) if (now - at > this.graceMs) this.launched.delete(known);
    if (this.launched.size >= 10_000) this.launched.delete(this.launched.keys().next().value!);
    this.launched.set(arn, now);
  }

  private launchedRecently(arn: string): boolean {
    const at = this.launched.get(arn);
    return at !== undefined && this.now() - at <= this.graceMs;
  }

  /** A task described without our tags (tags not yet visible): its record, from the request that launched it. */
  private recordFromRequest(request: EcsLaunchRequest, task: Task): AgentRecord {
    return {
      agentId: request.agentId,
      jobId: request.job.job_id,
      clusterId: request.cluster.clusterId,
      pipeline: jobPath(request.job),
      ref: task.taskArn ?? 'unknown',
      status: 'pending',
      createdAt: task.createdAt ?? new Date(this.now()),
      dockerMode: request.profile.dockerMode,
    };
  }

  /**
   * The first of `arns` that is not stopped. MISSING right after RunTask can be ECS's eventual consistency, not a
   * failed launch, so before concluding "failed" (which starts another task): a task this process launched within
   * the grace period counts as live, and any other MISSING task is described again after short delays. A MISSING
   * task that stays missing is one whose stop expired from DescribeTasks (≥ 1 h ago) — that attempt is over.
   */
  private async earlierLaunchOf(
    cluster: EcsClusterProfile,
    arns: string[],
    deadline: number,
  ): Promise<{ task: Task; completed: boolean } | undefined | typeof THROTTLED> {
    if (arns.length === 0) return undefined;
    for (let i = 0; ; i++) {
      const res = await this.retryThrottled(deadline, (o) =>
        this.client.send(
          new DescribeTasksCommand({ cluster: cluster.cluster, tasks: arns.slice(0, 100), include: ['TAGS'] }),
          o,
        ),
      );
      if (res === THROTTLED) return THROTTLED;
      const live = (res.tasks ?? []).find(isLive);
      if (live) return { task: live, completed: false };
      const done = (res.tasks ?? []).find((t) => isCompletionStopReason(t.stoppedReason));
      if (done) return { task: done, completed: true };
      const missing = (res.failures ?? []).filter((f) => f.reason === 'MISSING' && f.arn).map((f) => f.arn!);
      const mine = missing.find((arn) => this.launchedRecently(arn));
      if (mine)
        return { task: { taskArn: mine, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING' }, completed: false };
      if (missing.length === 0 || i >= this.missingDelays.length) return undefined;
      await this.sleep(this.missingDelays[i]!);
    }
  }

  /**
   * Every task of the cluster profile ECS lists: ⌈N/100⌉ ListTasks pages + ⌈N/100⌉ DescribeTasks calls, ending by
   * `deadline` (default: the backend's own bound).
   */
  private async liveTasks(cluster: EcsClusterProfile, deadline = this.now() + this.throttleWaitMs): Promise<Task[]> {
    try {
      return await this.bounded(deadline, async (o) => {
        const arns: string[] = [];
        // `startedBy` must be ListTasks' only filter (`cluster` is scope); ECS then lists desired status RUNNING only.
        for await (const page of paginateListTasks(
          { client: this.client, pageSize: 100 },
          { cluster: cluster.cluster, startedBy: startedByFor(cluster.clusterId) },
          o,
        )) {
          arns.push(...(page.taskArns ?? []));
        }
        const batches = await mapLimit(chunks([...new Set(arns)], 100), this.concurrency, (tasks) =>
          this.client.send(new DescribeTasksCommand({ cluster: cluster.cluster, tasks, include: ['TAGS'] }), o),
        );
        // A task listed then MISSING (stopped and expired in between) is simply gone.
        return batches.flatMap((b) => b.tasks ?? []);
      });
    } catch (err) {
      // Never a partial list: a throttled page must not look like "these agents have no task". A listing cut off at
      // the request's deadline is a wait like a throttled one.
      throw new BackendUnavailableError(`listing ECS tasks of ${cluster.cluster} failed: ${describeError(err)}`, {
        cause: err,
        throttled: isThrottling(err) || err instanceof DeadlinePassedError,
      });
    }
  }

  async list(cluster: EcsClusterProfile, deadline?: number): Promise<AgentRecord[]> {
    return (await this.liveTasks(cluster, deadline))
      .map(agentRecordOf)
      .filter((a): a is AgentRecord => a !== undefined && a.status !== 'stopped' && a.clusterId === cluster.clusterId);
  }

  async stop(
    cluster: EcsClusterProfile,
    agents: readonly AgentRecord[],
    reason: string,
    deadline = this.now() + this.throttleWaitMs,
  ): Promise<void> {
    const failures: string[] = [];
    await mapLimit(agents, this.concurrency, async (agent) => {
      try {
        // StopTask draws from RunTask's bucket: paced with the launches.
        const stopped = await this.paced(deadline, (o) =>
          this.client.send(
            new StopTaskCommand({
              cluster: cluster.cluster,
              task: agent.ref,
              reason: reason.slice(0, STOP_REASON_MAX),
            }),
            o,
          ),
        );
        if (stopped === THROTTLED) failures.push(`${agent.agentId}: ECS throttled StopTask past the deadline`);
      } catch (err) {
        // StopTask on a stopped task succeeds; an unknown (or expired) task is what we wanted too.
        const e = err as Error;
        if (/InvalidParameter|ClientException/.test(e.name) && /not found|does not exist|not exist/i.test(e.message)) {
          return;
        }
        failures.push(`${agent.agentId}: ${describeError(err)}`);
      }
    });
    if (failures.length) {
      throw new BackendUnavailableError(`stopping ECS tasks failed: ${failures.join('; ')}`);
    }
  }

  async inspect(cluster: EcsClusterProfile, agentId: string): Promise<AgentDetails | undefined> {
    const task = (await this.liveTasks(cluster)).find((t) => agentRecordOf(t)?.agentId === agentId);
    const agent = task && agentRecordOf(task);
    if (!task || !agent) return undefined;
    const environment: Record<string, string> = {};
    if (task.taskDefinitionArn) {
      const td = await this.client.send(new DescribeTaskDefinitionCommand({ taskDefinition: task.taskDefinitionArn }));
      const agentDef = td.taskDefinition?.containerDefinitions?.find((c) => c.name === AGENT_CONTAINER);
      for (const kv of agentDef?.environment ?? []) if (kv.name) environment[kv.name] = kv.value ?? '';
    }
    for (const kv of task.overrides?.containerOverrides?.find((c) => c.name === AGENT_CONTAINER)?.environment ?? []) {
      if (kv.name) environment[kv.name] = kv.value ?? '';
    }
    if (environment.GO_EA_AUTO_REGISTER_KEY !== undefined) environment.GO_EA_AUTO_REGISTER_KEY = '********';
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
      links: consoleLinks(task, cluster.logGroup),
    };
  }
}

/** ECS console link of a task and, with a log group, the CloudWatch link of its agent container's log stream. */
export function consoleLinks(task: Task, logGroup?: string): AgentDetails['links'] {
  // arn:aws:ecs:<region>:<account>:task/<cluster>/<id>
  const m = /^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):\d+:task\/([^/]+)\/([^/]+)$/.exec(task.taskArn ?? '');
  if (!m) return [];
  const [, partition, region, clusterName, taskId] = m;
  const host = partition === 'aws-cn' ? `${region}.console.amazonaws.cn` : `${region}.console.aws.amazon.com`;
  const links = [{ label: 'ECS task', url: `https://${host}/ecs/v2/clusters/${clusterName}/tasks/${taskId}` }];
  if (logGroup) {
    // The CloudWatch console's fragment encoding: URI-encoded twice, with '%' written as '$'.
    const enc = (s: string) => encodeURIComponent(encodeURIComponent(s)).replace(/%/g, '$');
    const stream = `gocd-agent/${AGENT_CONTAINER}/${taskId}`;
    links.push({
      label: 'agent log',
      url: `https://${host}/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${enc(logGroup)}/log-events/${enc(stream)}`,
    });
  }
  return links;
}

/** The ECS backend over one ECSClient (build the client with createEcsClient). */
export function createEcsBackend(client: ECSClient, options: EcsBackendOptions): EcsBackend {
  return new EcsBackend(client, options);
}
