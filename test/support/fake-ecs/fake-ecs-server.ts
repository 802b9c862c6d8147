import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterNotFound, EcsError, invalidParameter } from './ecs-errors.js';
import { checkRunTask, checkStopTask, checkTaskDefinition, type FakeCluster, resolveLaunch } from './linked-rules.js';
import { validateAgainstModel } from './model-validator.js';
import { loadEcsServiceModel, type ServiceModel } from './service-model.js';
import {
  advance,
  expired,
  type FakeTask,
  finishStop,
  type LifecycleTiming,
  requestStop,
  settle,
  type Tag,
} from './task-lifecycle.js';
import type { TaskHandle, TaskRuntime } from './task-runtime.js';
import { type BucketQuota, EcsThrottle, type ThrottleCategory } from './token-buckets.js';

// A loopback server speaking the ECS JSON protocol (awsJson1_1: `POST /`, `X-Amz-Target:
// AmazonEC2ContainerServiceV20141113.<Op>`, `application/x-amz-json-1.1`, errors as HTTP 400
// `{"__type": "com.amazonaws.ecs#<Code>", "message": …}`), so the real ECSClient — with its signing, retries,
// idempotency tokens and paginators — can be tested offline through `AWS_ENDPOINT_URL_ECS` or `endpoint`.
// As strict as ECS where the scaler can trip:
// - every request is validated against the ECS service model shipped with botocore (model-validator.ts);
// - the rules ECS enforces across fields, with ECS's error codes and messages (linked-rules.ts);
// - clusters must exist (ClusterNotFoundException) and capacity providers be associated with them;
// - RunTask client tokens are scoped per cluster and honoured for a bounded time (default 24 h);
// - the task state machine (task-lifecycle.ts): a STOPPING window after StopTask, stopped tasks MISSING after their
//   retention, tags deleted on stop;
// - task-definition tags per revision;
// - ECS's per-category throttling token buckets (token-buckets.ts).
// Test support, not product.

export type { FakeTask } from './task-lifecycle.js';

type Json = Record<string, unknown>;
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';
const DAY_MS = 24 * 3_600_000;

/** A cluster to create at start: a name, or a name with its capacity providers and default strategy. */
export type ClusterSpec =
  | string
  | {
      name: string;
      capacityProviders?: string[];
      defaultCapacityProviderStrategy?: FakeCluster['defaultCapacityProviderStrategy'];
    };

/** Behaviour knobs; the public fields may be changed on the instance between calls. */
export interface FakeEcsOptions {
  /** Clusters that exist from the start (others answer ClusterNotFoundException until `createCluster`). */
  clusters?: ClusterSpec[];
  /** Delay before every answer, in ms. */
  latencyMs?: number;
  /** Fault injection: share of calls answered with ThrottlingException (deterministic: a seeded generator). */
  throttleRate?: number;
  /** Operations the fault injection applies to; default all. */
  throttleOps?: string[];
  seed?: number;
  /**
   * ECS's request-throttling buckets: on by default with ECS's published quotas; `false` turns them off (for
   * benchmarks that count calls rather than pace them); an object overrides some categories' burst/refill.
   */
  throttling?: false | Partial<Record<ThrottleCategory, BucketQuota>>;
  /** Validate every request against botocore's service model (default true when the model is installed). */
  validateModel?: boolean;
  /** lastStatus of a task RunTask creates; default PROVISIONING (ECS's first state). `advanceTasks` moves it on. */
  initialStatus?: 'PROVISIONING' | 'PENDING' | 'RUNNING';
  /** How long RunTask honours a client token; default 24 h (ECS_Idempotency). */
  clientTokenTtlMs?: number;
  /** STOPPING → STOPPED without a runtime; default 1 s. */
  stopDurationMs?: number;
  /** STOPPED → MISSING; default 1 h. */
  stoppedRetentionMs?: number;
  /** Clock in ms (tests move time; default Date.now). */
  now?: () => number;
  /**
   * Runs the tasks (e.g. on the local Docker engine: local-engine-runtime.ts), driving their states and STOPPING →
   * STOPPED; without one, tasks are records only (moved on by `advanceTasks` and `stopDurationMs`).
   */
  runtime?: TaskRuntime;
}

/** Mulberry32: a tiny seeded PRNG so fault schedules repeat run to run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const clusterName = (c: unknown) => (typeof c === 'string' && c !== '' ? c.split('/').pop()! : 'default');
const clusterArnOf = (name: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`;

/** The fake ECS endpoint. `url` is set once started. */
export class FakeEcs {
  url = '';
  /** Calls per operation, counting throttled and failed ones (each SDK attempt is one call). */
  readonly calls = new Map<string, number>();
  /** When each operation last succeeded, and first, in the fake's clock (ms). */
  readonly lastSuccessAt = new Map<string, number>();
  readonly firstSuccessAt = new Map<string, number>();
  readonly tasks = new Map<string, FakeTask>();
  readonly clusters = new Map<string, FakeCluster>();
  private readonly families = new Map<string, Json[]>();
  /** Tags per task-definition revision ARN (ECS tags each revision; DescribeTaskDefinition reads that revision's). */
  private readonly definitionTags = new Map<string, Tag[]>();
  private readonly tokens = new Map<string, { hash: string; arns: string[]; result: Json; at: number }>();
  private readonly runFailures: { reason: string; detail?: string }[] = [];
  private readonly oneShot = new Map<string, EcsError[]>();
  private hiddenAfterRun = 0;
  private readonly hidden = new Map<string, number>();
  private server: Server | undefined;
  private rng: () => number;
  private readonly model: ServiceModel | undefined;
  readonly now: () => number;
  readonly timing: LifecycleTiming;
  readonly buckets: EcsThrottle | undefined;
  latencyMs: number;
  throttleRate: number;
  throttleOps: string[] | undefined;
  initialStatus: NonNullable<FakeEcsOptions['initialStatus']>;
  clientTokenTtlMs: number;
  /** Calls answered with ThrottlingException (fault injection and buckets). */
  throttled = 0;
  /** Throttled calls per operation. */
  readonly throttledCalls = new Map<string, number>();

  constructor(private readonly options: FakeEcsOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.throttleRate = options.throttleRate ?? 0;
    this.throttleOps = options.throttleOps;
    this.initialStatus = options.initialStatus ?? 'PROVISIONING';
    this.clientTokenTtlMs = options.clientTokenTtlMs ?? DAY_MS;
    this.rng = prng(options.seed ?? 1);
    this.now = options.now ?? Date.now;
    this.timing = {
      stopDurationMs: options.stopDurationMs ?? 1_000,
      stoppedRetentionMs: options.stoppedRetentionMs ?? 3_600_000,
    };
    this.buckets = options.throttling === false ? undefined : new EcsThrottle(options.throttling ?? {}, this.now);
    this.model = options.validateModel === false ? undefined : loadEcsServiceModel();
    for (const c of options.clusters ?? []) {
      if (typeof c === 'string') this.createCluster(c);
      else this.createCluster(c.name, c);
    }
  }

  /** Whether requests are checked against botocore's service model (false only when it is not installed). */
  get modelValidation(): boolean {
    return this.model !== undefined;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const op = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
        let status = 200;
        let body: Json;
        try {
          if (this.latencyMs) await sleep(this.latencyMs);
          this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
          if (req.method !== 'POST' || req.url !== '/') throw new EcsError('UnknownOperationException', 'POST / only');
          if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) {
            throw new EcsError('UnknownOperationException', 'content type must be application/x-amz-json-1.1');
          }
          // Signed like AWS would need it (not verified): an unsigned client is a bug worth failing on.
          if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 Credential=')) {
            throw new EcsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
          }
          let input: unknown;
          try {
            input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
          } catch {
            throw new EcsError('SerializationException', 'Malformed JSON body');
          }
          // Throttling comes before validation: ECS counts every request against its bucket.
          const faulted = this.throttleRate > 0 && (!this.throttleOps || this.throttleOps.includes(op));
          if ((this.buckets && !this.buckets.admit(op)) || (faulted && this.rng() < this.throttleRate)) {
            this.throttled++;
            this.throttledCalls.set(op, (this.throttledCalls.get(op) ?? 0) + 1);
            throw new EcsError('ThrottlingException', 'Rate exceeded');
          }
          if (this.model) validateAgainstModel(this.model, op, input);
          const injected = this.oneShot.get(op)?.shift();
          if (injected) throw injected;
          body = this.dispatch(op, input as Json);
          const at = this.now();
          this.lastSuccessAt.set(op, at);
          if (!this.firstSuccessAt.has(op)) this.firstSuccessAt.set(op, at);
        } catch (err) {
          const e = err instanceof EcsError ? err : new EcsError('ServerException', (err as Error).message, {}, 500);
          status = e.status;
          body = { __type: `com.amazonaws.ecs#${e.type}`, message: e.message, ...e.extra };
        }
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': randomBytes(8).toString('hex'),
        });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Client options that reach this fake with the real SDK (tests only; the product reads AWS_ENDPOINT_URL_ECS). */
  clientConfig(): { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string } } {
    return { region: REGION, endpoint: this.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  }

  /** Environment variables that point the SDK's standard configuration chain at this fake. */
  env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_ECS: this.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: REGION,
    };
  }

  /** Points this process's SDK configuration chain at the fake (`env()`); returns what puts the old values back. */
  useAsEnvironment(): () => void {
    const saved = Object.fromEntries(Object.keys(this.env()).map((k) => [k, process.env[k]]));
    Object.assign(process.env, this.env());
    return () => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    };
  }

  /** Creates (or reconfigures) a cluster; FARGATE and FARGATE_SPOT must be listed to be usable, as in ECS. */
  createCluster(
    name: string,
    spec: {
      capacityProviders?: string[];
      defaultCapacityProviderStrategy?: FakeCluster['defaultCapacityProviderStrategy'];
    } = {},
  ): FakeCluster {
    const cluster: FakeCluster = {
      name,
      arn: clusterArnOf(name),
      capacityProviders: spec.capacityProviders ?? [],
      defaultCapacityProviderStrategy: spec.defaultCapacityProviderStrategy ?? [],
    };
    this.clusters.set(name, cluster);
    return cluster;
  }

  /** Total calls of some operations (all when none given). */
  count(...ops: string[]): number {
    let n = 0;
    for (const [op, c] of this.calls) if (ops.length === 0 || ops.includes(op)) n += c;
    return n;
  }

  /** Calls of some operations (all when none given) that ECS did not throttle. */
  served(...ops: string[]): number {
    let n = this.count(...ops);
    for (const [op, c] of this.throttledCalls) if (ops.length === 0 || ops.includes(op)) n -= c;
    return n;
  }

  resetCounts(): void {
    this.calls.clear();
    this.throttledCalls.clear();
    this.lastSuccessAt.clear();
    this.firstSuccessAt.clear();
    this.throttled = 0;
  }

  /** The next RunTask calls place nothing and answer these failures (RESOURCE:MEMORY, AGENT …). */
  failNextRunTask(...failures: { reason: string; detail?: string }[]): void {
    this.runFailures.push(...failures);
  }

  /** The next call of `op` answers this error (after throttling and validation). */
  failNext(op: string, type: string, message = type): void {
    this.oneShot.set(op, [...(this.oneShot.get(op) ?? []), new EcsError(type, message)]);
  }

  /** Tasks launched from now on are MISSING to their next `n` DescribeTasks (eventual consistency); 0 turns it off. */
  hideNewTasks(n: number): void {
    this.hiddenAfterRun = n;
  }

  /** Moves live tasks one lifecycle step towards RUNNING (all, or those matching), as the ECS agent would. */
  advanceTasks(match: (t: FakeTask) => boolean = () => true): number {
    let moved = 0;
    for (const t of this.tasks.values()) if (match(t) && advance(t, this.now())) moved++;
    return moved;
  }

  /** Completes every pending stop now (STOPPING → STOPPED), as if the stop duration had passed. */
  finishStops(): number {
    let n = 0;
    for (const t of this.tasks.values()) {
      if (t.lastStatus === 'STOPPING') {
        finishStop(t, this.now());
        n++;
      }
    }
    return n;
  }

  /** Stops a task behind the service's back (spot interruption, OOM, host loss). */
  stopOutOfBand(taskArn: string, stopCode = 'SpotInterruption', reason = 'Your Spot Task was interrupted.'): void {
    const t = this.tasks.get(taskArn);
    if (!t) throw new Error(`no task ${taskArn}`);
    this.stopTaskNow(t, stopCode, reason);
  }

  /** Adds `n` running tasks started by `startedBy`, as if launched `minutesAgo` ago. */
  seedTasks(
    n: number,
    opts: { cluster: string; startedBy: string; tags?: (i: number) => Tag[]; minutesAgo?: number },
  ): string[] {
    const cluster = this.clusterOf(opts.cluster);
    const arns: string[] = [];
    for (let i = 0; i < n; i++) {
      const t = this.newTask(cluster, { startedBy: opts.startedBy }, undefined, opts.tags?.(i) ?? []);
      t.lastStatus = 'RUNNING';
      t.createdAt = this.now() / 1000 - (opts.minutesAgo ?? 0) * 60;
      t.startedAt = t.createdAt;
      arns.push(t.taskArn);
    }
    return arns;
  }

  /** Tasks of a cluster that are neither stopped nor stopping. */
  liveTasks(cluster = 'default'): FakeTask[] {
    this.settleAll();
    return [...this.tasks.values()].filter(
      (t) => t.clusterArn === clusterArnOf(cluster) && t.desiredStatus !== 'STOPPED' && t.lastStatus !== 'STOPPED',
    );
  }

  /** Every registered revision of a family, oldest first. */
  revisions(family: string): Json[] {
    return this.families.get(family) ?? [];
  }

  private settleAll(): void {
    const now = this.now();
    const runtimeDriven = this.options.runtime !== undefined;
    for (const [arn, t] of this.tasks) {
      settle(t, now, this.timing, runtimeDriven);
      if (expired(t, now, this.timing)) this.tasks.delete(arn);
    }
  }

  private clusterOf(ref: unknown): FakeCluster {
    const cluster = this.clusters.get(clusterName(ref));
    if (!cluster) throw clusterNotFound();
    return cluster;
  }

  private dispatch(op: string, body: Json): Json {
    this.settleAll();
    switch (op) {
      case 'RegisterTaskDefinition':
        return this.registerTaskDefinition(body);
      case 'DescribeTaskDefinition': {
        const td = this.resolveTaskDefinition(String(body.taskDefinition ?? ''));
        const withTags = Array.isArray(body.include) && body.include.includes('TAGS');
        return {
          taskDefinition: td,
          ...(withTags ? { tags: this.definitionTags.get(String(td.taskDefinitionArn)) ?? [] } : {}),
        };
      }
      case 'ListTaskDefinitions':
        return this.listTaskDefinitions(body);
      case 'RunTask':
        return this.runTask(body);
      case 'StopTask':
        return this.stopTask(body);
      case 'ListTasks':
        return this.listTasks(body);
      case 'DescribeTasks':
        return this.describeTasks(body);
      case 'TagResource':
        return this.tagResource(body);
      default:
        throw new EcsError('UnknownOperationException', `fake ECS does not implement '${op}'`);
    }
  }

  private registerTaskDefinition(body: Json): Json {
    checkTaskDefinition(body);
    const family = String(body.family);
    const revisions = this.families.get(family) ?? [];
    const revision = revisions.length + 1;
    const { tags, ...content } = body;
    const compat = (body.requiresCompatibilities as string[] | undefined) ?? ['EC2'];
    const td = {
      ...content,
      family,
      revision,
      status: 'ACTIVE',
      compatibilities: compat,
      taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`,
      registeredAt: this.now() / 1000,
    };
    revisions.push(td);
    this.families.set(family, revisions);
    this.definitionTags.set(td.taskDefinitionArn, (tags as Tag[] | undefined) ?? []);
    return { taskDefinition: td, tags: tags ?? [] };
  }

  private resolveTaskDefinition(ref: string): Json {
    const name = ref.startsWith('arn:') ? ref.split('/').pop()! : ref;
    const [family, rev] = name.split(':');
    const revisions = this.families.get(family ?? '') ?? [];
    const td = rev ? revisions[Number(rev) - 1] : [...revisions].reverse().find((r) => r.status === 'ACTIVE');
    if (!td) throw new EcsError('ClientException', 'Unable to describe task definition.');
    return td;
  }

  private listTaskDefinitions(body: Json): Json {
    const prefix = typeof body.familyPrefix === 'string' ? body.familyPrefix : '';
    const arns = [...this.families.entries()]
      .filter(([f]) => f.startsWith(prefix))
      .flatMap(([, r]) => r.map((td) => String(td.taskDefinitionArn)));
    return { taskDefinitionArns: arns };
  }

  private newTask(
    cluster: FakeCluster,
    body: Json,
    td: Json | undefined,
    tags: Tag[],
    capacityProvider?: string,
  ): FakeTask {
    const id = randomBytes(16).toString('hex');
    const defs = (td?.containerDefinitions as Json[] | undefined) ?? [{ name: 'agent', image: 'seeded' }];
    const tdArn = td ? String(td.taskDefinitionArn) : `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/seeded:1`;
    const task: FakeTask = {
      taskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${cluster.name}/${id}`,
      clusterArn: cluster.arn,
      taskDefinitionArn: tdArn,
      lastStatus: this.initialStatus,
      desiredStatus: 'RUNNING',
      createdAt: this.now() / 1000,
      version: 1,
      tags: [...tags],
      containers: defs.map((c) => ({
        name: c.name,
        image: c.image,
        lastStatus: 'PENDING',
        runtimeId: randomBytes(32).toString('hex'),
      })),
      group: typeof body.group === 'string' ? body.group : `family:${String(td?.family ?? 'seeded')}`,
      ...(typeof body.startedBy === 'string' ? { startedBy: body.startedBy } : {}),
      ...(typeof body.launchType === 'string' ? { launchType: body.launchType } : {}),
      ...(capacityProvider ? { capacityProviderName: capacityProvider } : {}),
      ...(body.overrides ? { overrides: body.overrides as Json } : {}),
      ...(body.placementConstraints ? { placementConstraints: body.placementConstraints as Json[] } : {}),
      ...(body.enableExecuteCommand === true ? { enableExecuteCommand: true } : {}),
    };
    if (task.lastStatus === 'RUNNING') {
      task.startedAt = task.createdAt;
      for (const c of task.containers) c.lastStatus = 'RUNNING';
    }
    this.tasks.set(task.taskArn, task);
    return task;
  }

  private runTask(body: Json): Json {
    const cluster = this.clusterOf(body.cluster);
    const td = this.resolveTaskDefinition(String(body.taskDefinition ?? ''));
    const launch = resolveLaunch(body, cluster);
    checkRunTask(body, td, launch);
    const count = Number(body.count ?? 1);
    const token = typeof body.clientToken === 'string' ? body.clientToken : undefined;
    // "Client tokens are scoped per cluster" (ECS_Idempotency): the same token in another cluster is a new request.
    const key = `${cluster.arn}|${token}`;
    const { clientToken: _omit, ...params } = body;
    const hash = createHash('sha256').update(JSON.stringify(params)).digest('hex');
    if (token) {
      const seen = this.tokens.get(key);
      // Honoured for a bounded time (24 h by default); after that the token is a new request.
      if (seen && this.now() - seen.at >= this.clientTokenTtlMs) this.tokens.delete(key);
      else if (seen && seen.hash === hash) return seen.result;
      else if (seen)
        // Same token, other parameters: ConflictException naming the tasks already tied to the token.
        throw new EcsError(
          'ConflictException',
          'The specified client token has already been used in a request with different parameters.',
          { resourceIds: seen.arns },
        );
    }
    const failure = this.runFailures.shift() ?? this.options.runtime?.place?.(body, td, this.tasks.values());
    let result: Json;
    if (failure) {
      const instance = `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/${cluster.name}/${randomBytes(16).toString('hex')}`;
      result = { tasks: [], failures: [{ arn: instance, ...failure }] };
    } else {
      const tasks = Array.from({ length: count }, () =>
        this.newTask(cluster, body, td, (body.tags as Tag[] | undefined) ?? [], launch.capacityProvider),
      );
      for (const t of tasks) {
        if (token) t.clientToken = token;
        if (this.hiddenAfterRun) this.hidden.set(t.taskArn, this.hiddenAfterRun);
        this.options.runtime?.start(this.handleOf(t), td);
      }
      // The answer includes the tags (the backend also copes without: see the unit tests).
      result = { tasks: tasks.map((t) => this.view(t, true)), failures: [] };
    }
    if (token) {
      this.tokens.set(key, {
        hash,
        arns: ((result.tasks as Json[]) ?? []).map((t) => String(t.taskArn)),
        result,
        at: this.now(),
      });
    }
    return result;
  }

  private find(ref: string, cluster: FakeCluster): FakeTask | undefined {
    const arn = ref.startsWith('arn:') ? ref : `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${cluster.name}/${ref}`;
    const t = this.tasks.get(arn);
    return t && t.clusterArn === cluster.arn ? t : undefined;
  }

  /** The stop request and, with a runtime, its STOPPING → STOPPED completion once the runtime stopped it. */
  private stopTaskNow(task: FakeTask, stopCode: string, reason: string): void {
    if (!requestStop(task, this.now(), stopCode, reason)) return;
    this.options.runtime?.stop(this.handleOf(task));
  }

  /** What a runtime may do to a task: the same transitions StopTask and the timed settle make (task-lifecycle.ts). */
  private handleOf(task: FakeTask): TaskHandle {
    return {
      task,
      // The first stop code and reason stay (a StopTask before an essential container's exit keeps UserInitiated).
      stopping: (stopCode, reason) => void requestStop(task, this.now(), stopCode, reason),
      stopped: (stopCode, reason) => {
        requestStop(task, this.now(), stopCode, reason);
        finishStop(task, this.now());
      },
    };
  }

  private stopTask(body: Json): Json {
    const cluster = this.clusterOf(body.cluster);
    checkStopTask(body);
    const task = this.find(String(body.task ?? ''), cluster);
    if (!task) throw invalidParameter('The referenced task was not found.');
    this.stopTaskNow(task, 'UserInitiated', typeof body.reason === 'string' ? body.reason : 'Task stopped by user');
    return { task: this.view(task, false) };
  }

  private listTasks(body: Json): Json {
    const cluster = this.clusterOf(body.cluster);
    // "startedBy … If you specify startedBy, you can't specify any other filters" besides cluster (ListTasks).
    if (
      body.startedBy !== undefined &&
      ['family', 'launchType', 'desiredStatus', 'containerInstance', 'serviceName'].some((k) => body[k] !== undefined)
    ) {
      throw invalidParameter('cannot specify startedBy with other arguments');
    }
    const max = Number(body.maxResults ?? 100);
    if (!(max >= 1 && max <= 100)) throw invalidParameter('maxResults must be between 1 and 100');
    // ECS's default desiredStatus filter is RUNNING.
    const desired = typeof body.desiredStatus === 'string' ? body.desiredStatus : 'RUNNING';
    const all = [...this.tasks.values()].filter(
      (t) =>
        t.clusterArn === cluster.arn &&
        t.desiredStatus === desired &&
        (body.startedBy === undefined || t.startedBy === body.startedBy) &&
        (body.family === undefined || t.taskDefinitionArn.includes(`/${String(body.family)}:`)),
    );
    let start = 0;
    if (typeof body.nextToken === 'string') {
      const decoded = /^offset:(\d+)$/.exec(Buffer.from(body.nextToken, 'base64url').toString());
      if (!decoded) throw invalidParameter('Invalid nextToken');
      start = Number(decoded[1]);
    }
    const page = all.slice(start, start + max);
    const next = start + max < all.length ? Buffer.from(`offset:${start + max}`).toString('base64url') : undefined;
    return { taskArns: page.map((t) => t.taskArn), ...(next ? { nextToken: next } : {}) };
  }

  private describeTasks(body: Json): Json {
    const cluster = this.clusterOf(body.cluster);
    const refs = (body.tasks as string[] | undefined) ?? [];
    if (refs.length === 0 || refs.length > 100)
      throw invalidParameter('Tasks cannot be empty and can have at most 100 items.');
    const withTags = Array.isArray(body.include) && body.include.includes('TAGS');
    const tasks: Json[] = [];
    const failures: Json[] = [];
    for (const ref of refs) {
      const t = this.find(ref, cluster);
      const hidden = t ? (this.hidden.get(t.taskArn) ?? 0) : 0;
      if (t && hidden > 0) this.hidden.set(t.taskArn, hidden - 1);
      if (!t || hidden > 0) failures.push({ arn: ref, reason: 'MISSING' });
      else tasks.push(this.view(t, withTags));
    }
    return { tasks, failures };
  }

  private tagResource(body: Json): Json {
    const arn = String(body.resourceArn ?? '');
    const tags = (body.tags as Tag[] | undefined) ?? [];
    const merge = (existing: Tag[]) => [...existing.filter((x) => !tags.some((t) => t.key === x.key)), ...tags];
    const t = this.tasks.get(arn);
    if (t) {
      t.tags = merge(t.tags);
      return {};
    }
    const td = this.definitionTags.get(arn);
    if (td) {
      this.definitionTags.set(arn, merge(td));
      return {};
    }
    throw new EcsError('ResourceNotFoundException', 'The specified resource was not found.');
  }

  private view(t: FakeTask, withTags: boolean): Json {
    const { tags, placementConstraints: _p, clientToken: _c, ...rest } = t;
    return withTags ? { ...rest, tags } : rest;
  }
}
