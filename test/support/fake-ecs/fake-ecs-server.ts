import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskHandle, TaskRuntime } from './task-runtime.js';

// A loopback server speaking the ECS JSON protocol (awsJson1_1: `POST /`, `X-Amz-Target:
// AmazonEC2ContainerServiceV20141113.<Op>`, `application/x-amz-json-1.1`, errors as HTTP 400
// `{"__type": "com.amazonaws.ecs#<Code>", "message": …}`), so the real ECSClient — with its signing, retries,
// idempotency tokens and paginators — can be tested offline through `AWS_ENDPOINT_URL_ECS` or `endpoint`.
// It models what the scaler relies on: client-token idempotency and ConflictException, the ListTasks startedBy and
// default-RUNNING rules, paging, DescribeTasks' 100-id cap and MISSING failures, StopTask dropping tags, and the
// RegisterTaskDefinition/RunTask validations a wrong definition would hit. Test support, not product.

type Json = Record<string, unknown>;
type Tag = { key: string; value: string };
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';

/** A task as the fake keeps it (timestamps in epoch seconds, as on the wire). */
export interface FakeTask {
  taskArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  lastStatus: string;
  desiredStatus: string;
  startedBy?: string;
  group?: string;
  launchType?: string;
  capacityProviderName?: string;
  createdAt: number;
  startedAt?: number;
  stoppingAt?: number;
  stoppedAt?: number;
  stoppedReason?: string;
  stopCode?: string;
  version: number;
  tags: Tag[];
  overrides?: Json;
  containers: Json[];
  placementConstraints?: Json[];
  clientToken?: string;
  /** Set by a runtime that places the task on a container instance (local-engine-runtime.ts). */
  containerInstanceArn?: string;
  healthStatus?: string;
}

/** Behaviour knobs; all may be changed on the instance between calls. */
export interface FakeEcsOptions {
  /** Delay before every answer, in ms. */
  latencyMs?: number;
  /** Share of calls answered with ThrottlingException (deterministic: a seeded generator). */
  throttleRate?: number;
  /** Operations the throttle applies to; default all. */
  throttleOps?: string[];
  seed?: number;
  /** lastStatus of a task RunTask creates; default PROVISIONING (ECS's first state). `advanceTasks` moves it on. */
  initialStatus?: 'PROVISIONING' | 'PENDING' | 'RUNNING';
  /** Runs the tasks (e.g. on the local Docker engine: local-engine-runtime.ts); without one, tasks are records only. */
  runtime?: TaskRuntime;
}

class EcsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly extra: Json = {},
    readonly status = 400,
  ) {
    super(message);
  }
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

const nowSeconds = () => Date.now() / 1000;
const clusterName = (c: unknown) => (typeof c === 'string' && c !== '' ? c.split('/').pop()! : 'default');
const clusterArn = (c: unknown) => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${clusterName(c)}`;
const invalid = (message: string) => new EcsError('InvalidParameterException', message);
const client = (message: string) => new EcsError('ClientException', message);
const LIFECYCLE = ['PROVISIONING', 'PENDING', 'ACTIVATING', 'RUNNING'];

/** The fake ECS endpoint. `url` is set once started. */
export class FakeEcs {
  url = '';
  /** Calls per operation, counting throttled and failed ones (each SDK attempt is one call). */
  readonly calls = new Map<string, number>();
  readonly tasks = new Map<string, FakeTask>();
  private readonly families = new Map<string, Json[]>();
  private readonly definitionTags = new Map<string, Tag[]>();
  private readonly tokens = new Map<string, { hash: string; arns: string[]; result: Json }>();
  private readonly runFailures: { reason: string; detail?: string }[] = [];
  private readonly oneShot = new Map<string, EcsError[]>();
  private hiddenAfterRun = 0;
  private readonly hidden = new Map<string, number>();
  private server: Server | undefined;
  private rng: () => number;
  latencyMs: number;
  throttleRate: number;
  throttleOps: string[] | undefined;
  initialStatus: NonNullable<FakeEcsOptions['initialStatus']>;
  /** Calls answered with ThrottlingException. */
  throttled = 0;
  private readonly runtime: TaskRuntime | undefined;

  constructor(options: FakeEcsOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.throttleRate = options.throttleRate ?? 0;
    this.throttleOps = options.throttleOps;
    this.initialStatus = options.initialStatus ?? 'PROVISIONING';
    this.rng = prng(options.seed ?? 1);
    this.runtime = options.runtime;
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
          if (
            this.throttleRate > 0 &&
            (!this.throttleOps || this.throttleOps.includes(op)) &&
            this.rng() < this.throttleRate
          ) {
            this.throttled++;
            throw new EcsError('ThrottlingException', 'Rate exceeded');
          }
          const injected = this.oneShot.get(op)?.shift();
          if (injected) throw injected;
          body = this.dispatch(op, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Json);
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

  /** Total calls of some operations (all when none given). */
  count(...ops: string[]): number {
    let n = 0;
    for (const [op, c] of this.calls) if (ops.length === 0 || ops.includes(op)) n += c;
    return n;
  }

  resetCounts(): void {
    this.calls.clear();
    this.throttled = 0;
  }

  /** The next RunTask calls place nothing and answer these failures (RESOURCE:MEMORY, AGENT …). */
  failNextRunTask(...failures: { reason: string; detail?: string }[]): void {
    this.runFailures.push(...failures);
  }

  /** The next call of `op` answers this error (after the throttle draw). */
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
    for (const t of this.tasks.values()) {
      const i = LIFECYCLE.indexOf(t.lastStatus);
      if (i < 0 || i === LIFECYCLE.length - 1 || t.desiredStatus === 'STOPPED' || !match(t)) continue;
      t.lastStatus = LIFECYCLE[i + 1]!;
      t.version++;
      if (t.lastStatus === 'RUNNING') {
        t.startedAt = nowSeconds();
        for (const c of t.containers) c.lastStatus = 'RUNNING';
      }
      moved++;
    }
    return moved;
  }

  /** Stops a task behind the service's back (spot interruption, OOM, host loss). */
  stopOutOfBand(taskArn: string, stopCode = 'SpotInterruption', reason = 'Your Spot Task was interrupted.'): void {
    const t = this.tasks.get(taskArn);
    if (!t) throw new Error(`no task ${taskArn}`);
    this.markStopped(t, stopCode, reason);
  }

  /** Adds `n` running tasks started by `startedBy`, as if launched `minutesAgo` ago. */
  seedTasks(
    n: number,
    opts: { cluster: string; startedBy: string; tags?: (i: number) => Tag[]; minutesAgo?: number },
  ): string[] {
    const arns: string[] = [];
    for (let i = 0; i < n; i++) {
      const t = this.newTask(opts.cluster, { startedBy: opts.startedBy }, undefined, opts.tags?.(i) ?? []);
      t.lastStatus = 'RUNNING';
      t.createdAt = nowSeconds() - (opts.minutesAgo ?? 0) * 60;
      t.startedAt = t.createdAt;
      arns.push(t.taskArn);
    }
    return arns;
  }

  /** Tasks of a cluster that are not stopped. */
  liveTasks(cluster = 'default'): FakeTask[] {
    return [...this.tasks.values()].filter((t) => t.clusterArn === clusterArn(cluster) && t.lastStatus !== 'STOPPED');
  }

  /** Every registered revision of a family, oldest first. */
  revisions(family: string): Json[] {
    return this.families.get(family) ?? [];
  }

  private dispatch(op: string, body: Json): Json {
    switch (op) {
      case 'RegisterTaskDefinition':
        return this.registerTaskDefinition(body);
      case 'DescribeTaskDefinition': {
        const td = this.resolveTaskDefinition(String(body.taskDefinition ?? ''));
        const withTags = Array.isArray(body.include) && body.include.includes('TAGS');
        return { taskDefinition: td, ...(withTags ? { tags: this.definitionTags.get(String(td.family)) ?? [] } : {}) };
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

  /** The checks ECS makes at registration that a wrong definition of ours could trip. */
  private validateDefinition(body: Json): void {
    const family = String(body.family ?? '');
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(family)) throw client('Family contains invalid characters.');
    const defs = (body.containerDefinitions as Json[] | undefined) ?? [];
    if (defs.length === 0 || defs.length > 10) throw client('A task definition needs 1 to 10 containers.');
    if (Buffer.byteLength(JSON.stringify(body)) > 64 * 1024) throw client('Task definition exceeds 64 KiB.');
    const names = new Set(defs.map((c) => String(c.name)));
    if (names.size !== defs.length) throw client('Container names must be unique.');
    if (!defs.some((c) => c.essential !== false)) throw client('A task definition needs an essential container.');
    const compat = (body.requiresCompatibilities as string[] | undefined) ?? [];
    const fargate = compat.includes('FARGATE');
    const volumes = new Map(((body.volumes as Json[] | undefined) ?? []).map((v) => [String(v.name), v]));
    if (fargate) {
      if (body.networkMode !== 'awsvpc') throw client('Fargate requires network mode awsvpc.');
      if (!body.cpu || !body.memory) throw client('Fargate requires task-level cpu and memory.');
      if (defs.some((c) => c.privileged)) throw client('privileged is not supported on Fargate.');
      if ([...volumes.values()].some((v) => (v.host as Json | undefined)?.sourcePath || v.dockerVolumeConfiguration))
        throw client('Host source paths and Docker volumes are not supported on Fargate.');
    }
    for (const c of defs) {
      if (!body.memory && c.memory === undefined && c.memoryReservation === undefined) {
        throw client(
          `Invalid setting for container '${c.name}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
        );
      }
      for (const m of (c.mountPoints as Json[] | undefined) ?? []) {
        if (!volumes.has(String(m.sourceVolume))) throw client(`Unknown volume '${m.sourceVolume}' in '${c.name}'.`);
      }
      for (const d of (c.dependsOn as Json[] | undefined) ?? []) {
        const target = defs.find((x) => x.name === d.containerName);
        if (!target) throw client(`'${c.name}' depends on unknown container '${d.containerName}'.`);
        if (d.condition === 'HEALTHY' && !target.healthCheck)
          throw client(`'${d.containerName}' has no healthCheck for a HEALTHY dependency.`);
        if ((d.condition === 'COMPLETE' || d.condition === 'SUCCESS') && target.essential !== false)
          throw client(`${d.condition} cannot be used on an essential container.`);
      }
    }
    for (const v of volumes.values()) {
      const kinds = ['host', 'dockerVolumeConfiguration', 'efsVolumeConfiguration'].filter((k) => v[k] !== undefined);
      if (kinds.length > 1) throw client(`Volume '${v.name}' sets more than one volume type.`);
    }
    const tags = (body.tags as Tag[] | undefined) ?? [];
    if (tags.length > 50 || tags.some((t) => t.key.length > 128 || t.value.length > 256))
      throw invalid('Tags: at most 50, keys ≤ 128 and values ≤ 256 characters.');
  }

  private registerTaskDefinition(body: Json): Json {
    this.validateDefinition(body);
    const family = String(body.family);
    const revisions = this.families.get(family) ?? [];
    const revision = revisions.length + 1;
    const { tags, ...content } = body;
    const td = {
      ...content,
      family,
      revision,
      status: 'ACTIVE',
      taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`,
      registeredAt: nowSeconds(),
    };
    revisions.push(td);
    this.families.set(family, revisions);
    // Tags belong to the family's latest registration here (ECS tags each revision; we read only the latest).
    this.definitionTags.set(family, (tags as Tag[] | undefined) ?? []);
    return { taskDefinition: td, tags: tags ?? [] };
  }

  private resolveTaskDefinition(ref: string): Json {
    const name = ref.startsWith('arn:') ? ref.split('/').pop()! : ref;
    const [family, rev] = name.split(':');
    const revisions = this.families.get(family ?? '') ?? [];
    const td = rev ? revisions[Number(rev) - 1] : [...revisions].reverse().find((r) => r.status === 'ACTIVE');
    if (!td) throw client('Unable to describe task definition.');
    return td;
  }

  private listTaskDefinitions(body: Json): Json {
    const prefix = typeof body.familyPrefix === 'string' ? body.familyPrefix : '';
    const arns = [...this.families.entries()]
      .filter(([f]) => f.startsWith(prefix))
      .flatMap(([, r]) => r.map((td) => String(td.taskDefinitionArn)));
    return { taskDefinitionArns: arns };
  }

  private newTask(cluster: unknown, body: Json, td: Json | undefined, tags: Tag[]): FakeTask {
    const id = randomBytes(16).toString('hex');
    const defs = (td?.containerDefinitions as Json[] | undefined) ?? [{ name: 'agent', image: 'seeded' }];
    const tdArn = td ? String(td.taskDefinitionArn) : `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/seeded:1`;
    const strategy = (body.capacityProviderStrategy as Json[] | undefined)?.[0];
    const task: FakeTask = {
      taskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${clusterName(cluster)}/${id}`,
      clusterArn: clusterArn(cluster),
      taskDefinitionArn: tdArn,
      lastStatus: this.initialStatus,
      desiredStatus: 'RUNNING',
      createdAt: nowSeconds(),
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
      ...(strategy ? { capacityProviderName: String(strategy.capacityProvider) } : {}),
      ...(body.overrides ? { overrides: body.overrides as Json } : {}),
      ...(body.placementConstraints ? { placementConstraints: body.placementConstraints as Json[] } : {}),
    };
    if (task.lastStatus === 'RUNNING') {
      task.startedAt = task.createdAt;
      for (const c of task.containers) c.lastStatus = 'RUNNING';
    }
    this.tasks.set(task.taskArn, task);
    return task;
  }

  /** RunTask's parameter checks, in the order ECS reports them (before the client token is looked at). */
  private validateRunTask(body: Json, td: Json): void {
    if (body.launchType && body.capacityProviderStrategy) {
      throw invalid('Specifying both a launch type and capacity provider strategy is not supported.');
    }
    const count = Number(body.count ?? 1);
    if (!(count >= 1 && count <= 10)) throw invalid('count must be between 1 and 10.');
    if (typeof body.startedBy === 'string' && !/^[A-Za-z0-9_/-]{1,128}$/.test(body.startedBy))
      throw invalid('startedBy: up to 128 letters, numbers, hyphens, slashes and underscores.');
    if (typeof body.clientToken === 'string' && !/^[\x21-\x7e]{1,64}$/.test(body.clientToken))
      throw invalid('clientToken: 1 to 64 ASCII characters 33-126.');
    const tags = (body.tags as Tag[] | undefined) ?? [];
    if (tags.length > 50 || tags.some((t) => t.key.length > 128 || t.value.length > 256 || t.key.startsWith('aws:')))
      throw invalid('Tags: at most 50, keys ≤ 128 and values ≤ 256 characters, no aws: prefix.');
    if (body.propagateTags === 'SERVICE') throw invalid('propagateTags SERVICE is only valid for services.');
    const awsvpc = td.networkMode === 'awsvpc';
    const vpc = (body.networkConfiguration as Json | undefined)?.awsvpcConfiguration as Json | undefined;
    if (awsvpc && !(vpc?.subnets as unknown[] | undefined)?.length)
      throw invalid('Network Configuration must be provided when networkMode is awsvpc.');
    if (!awsvpc && body.networkConfiguration)
      throw invalid('Network Configuration is not valid for the given networkMode of this task definition.');
    const fargate =
      body.launchType === 'FARGATE' ||
      /^FARGATE/.test(String((body.capacityProviderStrategy as Json[] | undefined)?.[0]?.capacityProvider ?? ''));
    if (fargate && body.placementConstraints) throw invalid('Placement constraints are not supported on Fargate.');
    const names = new Set(((td.containerDefinitions as Json[]) ?? []).map((c) => String(c.name)));
    for (const o of ((body.overrides as Json | undefined)?.containerOverrides as Json[] | undefined) ?? []) {
      if (!names.has(String(o.name)))
        throw invalid(`Override for container named ${o.name} is not a container in the TaskDefinition.`);
    }
    if (Buffer.byteLength(JSON.stringify(body.overrides ?? {})) > 8192)
      throw invalid('Container Overrides length must be at most 8192');
  }

  private runTask(body: Json): Json {
    const td = this.resolveTaskDefinition(String(body.taskDefinition ?? ''));
    this.validateRunTask(body, td);
    const count = Number(body.count ?? 1);
    const token = typeof body.clientToken === 'string' ? body.clientToken : undefined;
    const key = `${clusterName(body.cluster)}|${token}`;
    const { clientToken: _omit, ...params } = body;
    const hash = createHash('sha256').update(JSON.stringify(params)).digest('hex');
    if (token) {
      const seen = this.tokens.get(key);
      // Same token and same parameters: the original result; other parameters: ConflictException with the ARNs.
      if (seen && seen.hash === hash) return seen.result;
      if (seen)
        throw new EcsError(
          'ConflictException',
          'The specified client token has already been used in a request with different parameters.',
          { resourceIds: seen.arns },
        );
    }
    const failure = this.runFailures.shift() ?? this.runtime?.place?.(body, td, this.tasks.values());
    let result: Json;
    if (failure) {
      const instance = `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/${clusterName(body.cluster)}/${randomBytes(16).toString('hex')}`;
      result = { tasks: [], failures: [{ arn: instance, ...failure }] };
    } else {
      const tasks = Array.from({ length: count }, () =>
        this.newTask(body.cluster, body, td, (body.tags as Tag[] | undefined) ?? []),
      );
      for (const t of tasks) {
        if (token) t.clientToken = token;
        if (this.hiddenAfterRun) this.hidden.set(t.taskArn, this.hiddenAfterRun);
        this.runtime?.start(this.handleOf(t), td);
      }
      // The answer includes the tags (the backend also copes without: see the unit tests).
      result = { tasks: tasks.map((t) => this.view(t, true)), failures: [] };
    }
    if (token) {
      this.tokens.set(key, { hash, arns: ((result.tasks as Json[]) ?? []).map((t) => String(t.taskArn)), result });
    }
    return result;
  }

  private find(ref: string, cluster: unknown): FakeTask | undefined {
    if (ref.startsWith('arn:')) return this.tasks.get(ref);
    return this.tasks.get(`arn:aws:ecs:${REGION}:${ACCOUNT}:task/${clusterName(cluster)}/${ref}`);
  }

  private markStopped(task: FakeTask, stopCode: string, reason: string): void {
    Object.assign(task, {
      desiredStatus: 'STOPPED',
      lastStatus: 'STOPPED',
      stopCode,
      stoppedReason: reason,
      stoppingAt: task.stoppingAt ?? nowSeconds(),
      stoppedAt: nowSeconds(),
      // "Any tags associated with the task will be deleted." (StopTask)
      tags: [],
      version: task.version + 1,
    });
    for (const c of task.containers) c.lastStatus = 'STOPPED';
  }

  private stopTask(body: Json): Json {
    const task = this.find(String(body.task ?? ''), body.cluster);
    if (!task) throw invalid('The referenced task was not found.');
    if (this.runtime) return this.stopWithRuntime(task, body);
    if (task.lastStatus !== 'STOPPED') {
      this.markStopped(task, 'UserInitiated', typeof body.reason === 'string' ? body.reason : 'Task stopped by user');
    }
    return { task: this.view(task, false) };
  }

  private listTasks(body: Json): Json {
    if (
      body.startedBy !== undefined &&
      ['family', 'launchType', 'desiredStatus', 'containerInstance', 'serviceName'].some((k) => body[k] !== undefined)
    ) {
      throw invalid('cannot specify startedBy with other arguments');
    }
    const max = Number(body.maxResults ?? 100);
    if (!(max >= 1 && max <= 100)) throw invalid('maxResults must be between 1 and 100');
    // ECS's default desiredStatus filter is RUNNING.
    const desired = typeof body.desiredStatus === 'string' ? body.desiredStatus : 'RUNNING';
    const all = [...this.tasks.values()].filter(
      (t) =>
        t.clusterArn === clusterArn(body.cluster) &&
        t.desiredStatus === desired &&
        (body.startedBy === undefined || t.startedBy === body.startedBy) &&
        (body.family === undefined || t.taskDefinitionArn.includes(`/${String(body.family)}:`)),
    );
    let start = 0;
    if (typeof body.nextToken === 'string') {
      const decoded = /^offset:(\d+)$/.exec(Buffer.from(body.nextToken, 'base64url').toString());
      if (!decoded) throw invalid('Invalid nextToken');
      start = Number(decoded[1]);
    }
    const page = all.slice(start, start + max);
    const next = start + max < all.length ? Buffer.from(`offset:${start + max}`).toString('base64url') : undefined;
    return { taskArns: page.map((t) => t.taskArn), ...(next ? { nextToken: next } : {}) };
  }

  private describeTasks(body: Json): Json {
    const refs = (body.tasks as string[] | undefined) ?? [];
    if (refs.length === 0 || refs.length > 100) throw invalid('Tasks cannot be empty and can have at most 100 items.');
    const withTags = Array.isArray(body.include) && body.include.includes('TAGS');
    const tasks: Json[] = [];
    const failures: Json[] = [];
    for (const ref of refs) {
      const t = this.find(ref, body.cluster);
      const hidden = t ? (this.hidden.get(t.taskArn) ?? 0) : 0;
      if (t && hidden > 0) this.hidden.set(t.taskArn, hidden - 1);
      if (!t || hidden > 0) failures.push({ arn: ref, reason: 'MISSING' });
      else tasks.push(this.view(t, withTags));
    }
    return { tasks, failures };
  }

  private tagResource(body: Json): Json {
    const t = this.tasks.get(String(body.resourceArn ?? ''));
    if (!t) throw invalid('The specified resource was not found.');
    for (const tag of (body.tags as Tag[] | undefined) ?? []) {
      t.tags = [...t.tags.filter((x) => x.key !== tag.key), tag];
    }
    return {};
  }

  // --- Runtime hook (task-runtime.ts): a runtime runs the tasks, and StopTask leaves them STOPPING until it is done.

  private handleOf(task: FakeTask): TaskHandle {
    return {
      task,
      stopping: (stopCode, reason) => {
        if (task.desiredStatus === 'STOPPED') return;
        Object.assign(task, {
          desiredStatus: 'STOPPED',
          stopCode: task.stopCode ?? stopCode,
          stoppedReason: task.stoppedReason ?? reason,
          stoppingAt: nowSeconds(),
          version: task.version + 1,
        });
      },
      stopped: (stopCode, reason) => this.markStopped(task, task.stopCode ?? stopCode, task.stoppedReason ?? reason),
    };
  }

  private stopWithRuntime(task: FakeTask, body: Json): Json {
    if (task.desiredStatus !== 'STOPPED' && task.lastStatus !== 'STOPPED') {
      const handle = this.handleOf(task);
      handle.stopping('UserInitiated', typeof body.reason === 'string' ? body.reason : 'Task stopped by user');
      this.runtime!.stop(handle);
    }
    return { task: this.view(task, false) };
  }

  private view(t: FakeTask, withTags: boolean): Json {
    const { tags, placementConstraints: _p, clientToken: _c, ...rest } = t;
    return withTags ? { ...rest, tags } : rest;
  }
}
