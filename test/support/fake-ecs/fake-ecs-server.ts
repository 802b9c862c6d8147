import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

// A loopback server speaking the ECS JSON protocol (awsJson1_1: `POST /`, `X-Amz-Target:
// AmazonEC2ContainerServiceV20141113.<Op>`, errors as 400 `{__type, message}`), so the real ECSClient — with its
// retries, idempotency tokens and paginators — can be tested offline through `AWS_ENDPOINT_URL_ECS` or `endpoint`.
// Test support, not product.

type Json = Record<string, unknown>;
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';

export interface FakeTask {
  taskArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  lastStatus: string;
  desiredStatus: string;
  startedBy?: string;
  group?: string;
  launchType?: string;
  createdAt: number;
  startedAt?: number;
  stoppedAt?: number;
  stoppedReason?: string;
  stopCode?: string;
  tags: { key: string; value: string }[];
  overrides?: Json;
  containers: Json[];
  placementConstraints?: Json[];
}

export interface FakeEcsOptions {
  /** Delay before every answer, in ms. */
  latencyMs?: number;
  /** Share of calls answered with ThrottlingException (deterministic, seeded). */
  throttleRate?: number;
  seed?: number;
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

const now = () => Date.now() / 1000;
const clusterName = (c: unknown) => (typeof c === 'string' && c !== '' ? c.split('/').pop()! : 'default');
const clusterArn = (c: unknown) => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${clusterName(c)}`;

/** The fake ECS endpoint. `url` is set once started. */
export class FakeEcs {
  url = '';
  readonly calls = new Map<string, number>();
  readonly tasks = new Map<string, FakeTask>();
  private readonly families = new Map<string, Json[]>();
  private readonly tokens = new Map<string, { hash: string; arns: string[]; result: Json }>();
  private readonly runFailures: { reason: string; detail?: string }[] = [];
  private readonly oneShot = new Map<string, EcsError[]>();
  private hiddenAfterRun = 0;
  private readonly hidden = new Map<string, number>();
  private server: Server | undefined;
  private rng: () => number;
  latencyMs: number;
  throttleRate: number;
  throttled = 0;

  constructor(options: FakeEcsOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.throttleRate = options.throttleRate ?? 0;
    this.rng = prng(options.seed ?? 1);
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
          if (this.throttleRate > 0 && this.rng() < this.throttleRate) {
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
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Client options that reach this fake with the real SDK. */
  clientConfig(): { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string } } {
    return { region: REGION, endpoint: this.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
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

  /** The next call of `op` answers this error. */
  failNext(op: string, type: string, message = type): void {
    this.oneShot.set(op, [...(this.oneShot.get(op) ?? []), new EcsError(type, message)]);
  }

  /** Tasks launched from now on are MISSING to the next `n` DescribeTasks calls (eventual consistency). */
  hideNewTasks(n: number): void {
    this.hiddenAfterRun = n;
  }

  /** Stops a task behind the service's back (spot interruption, OOM, host loss). */
  stopOutOfBand(taskArn: string, stopCode = 'SpotInterruption', reason = 'Your Spot Task was interrupted.'): void {
    const t = this.tasks.get(taskArn);
    if (!t) throw new Error(`no task ${taskArn}`);
    Object.assign(t, {
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode,
      stoppedReason: reason,
      stoppedAt: now(),
      tags: [],
    });
  }

  /** Adds `n` running tasks started by `startedBy`, as if launched `minutesAgo` ago. */
  seedTasks(
    n: number,
    opts: {
      cluster: string;
      startedBy: string;
      tags?: (i: number) => { key: string; value: string }[];
      minutesAgo?: number;
    },
  ): string[] {
    const arns: string[] = [];
    for (let i = 0; i < n; i++) {
      const t = this.newTask(
        opts.cluster,
        { startedBy: opts.startedBy, taskDefinition: 'seeded:1' },
        opts.tags?.(i) ?? [],
      );
      t.createdAt = now() - (opts.minutesAgo ?? 0) * 60;
      arns.push(t.taskArn);
    }
    return arns;
  }

  /** Tasks of a cluster that are not stopped. */
  liveTasks(cluster = 'default'): FakeTask[] {
    return [...this.tasks.values()].filter((t) => t.clusterArn === clusterArn(cluster) && t.lastStatus !== 'STOPPED');
  }

  private dispatch(op: string, body: Json): Json {
    switch (op) {
      case 'RegisterTaskDefinition':
        return this.registerTaskDefinition(body);
      case 'DescribeTaskDefinition':
        return { taskDefinition: this.resolveTaskDefinition(String(body.taskDefinition ?? '')), tags: [] };
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
    const family = String(body.family ?? '');
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(family))
      throw new EcsError('ClientException', 'Family contains invalid characters.');
    const revisions = this.families.get(family) ?? [];
    const revision = revisions.length + 1;
    const td = {
      ...body,
      family,
      revision,
      status: 'ACTIVE',
      taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`,
      registeredAt: now(),
    };
    delete (td as Json).tags;
    revisions.push(td);
    this.families.set(family, revisions);
    return { taskDefinition: td, tags: body.tags ?? [] };
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

  private newTask(cluster: unknown, body: Json, tags: { key: string; value: string }[]): FakeTask {
    const id = randomBytes(16).toString('hex');
    const td = String(body.taskDefinition ?? '');
    const defs =
      this.families.size && !td.startsWith('seeded')
        ? ((this.resolveTaskDefinition(td).containerDefinitions as Json[]) ?? [])
        : [{ name: 'agent', image: 'seeded' }];
    const task: FakeTask = {
      taskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${clusterName(cluster)}/${id}`,
      clusterArn: clusterArn(cluster),
      taskDefinitionArn: td.startsWith('arn:') ? td : `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${td}`,
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      createdAt: now(),
      startedAt: now(),
      tags,
      containers: defs.map((c) => ({
        name: c.name,
        image: c.image,
        lastStatus: 'RUNNING',
        runtimeId: randomBytes(32).toString('hex'),
      })),
      ...(typeof body.startedBy === 'string' ? { startedBy: body.startedBy } : {}),
      group: typeof body.group === 'string' ? body.group : `family:${td.split('/').pop()?.split(':')[0]}`,
      ...(typeof body.launchType === 'string' ? { launchType: body.launchType } : {}),
      ...(body.overrides ? { overrides: body.overrides as Json } : {}),
      ...(body.placementConstraints ? { placementConstraints: body.placementConstraints as Json[] } : {}),
    };
    this.tasks.set(task.taskArn, task);
    return task;
  }

  private runTask(body: Json): Json {
    if (body.launchType && body.capacityProviderStrategy) {
      throw new EcsError(
        'InvalidParameterException',
        'Specifying both a launch type and capacity provider strategy is not supported.',
      );
    }
    const count = Number(body.count ?? 1);
    if (count < 1 || count > 10) throw new EcsError('InvalidParameterException', 'count must be between 1 and 10');
    this.resolveTaskDefinition(String(body.taskDefinition ?? ''));
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
    const failure = this.runFailures.shift();
    let result: Json;
    if (failure) {
      result = {
        tasks: [],
        failures: [
          {
            arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/${clusterName(body.cluster)}/${randomBytes(16).toString('hex')}`,
            ...failure,
          },
        ],
      };
    } else {
      const tasks = Array.from({ length: count }, () =>
        this.newTask(body.cluster, body, (body.tags as { key: string; value: string }[]) ?? []),
      );
      for (const t of tasks) if (this.hiddenAfterRun) this.hidden.set(t.taskArn, this.hiddenAfterRun);
      result = { tasks: tasks.map((t) => this.view(t, true)), failures: [] };
    }
    if (token)
      this.tokens.set(key, { hash, arns: ((result.tasks as Json[]) ?? []).map((t) => String(t.taskArn)), result });
    return result;
  }

  private find(ref: string, cluster: unknown): FakeTask | undefined {
    if (ref.startsWith('arn:')) return this.tasks.get(ref);
    return this.tasks.get(`arn:aws:ecs:${REGION}:${ACCOUNT}:task/${clusterName(cluster)}/${ref}`);
  }

  private stopTask(body: Json): Json {
    const task = this.find(String(body.task ?? ''), body.cluster);
    if (!task) throw new EcsError('InvalidParameterException', 'The referenced task was not found.');
    // StopTask deletes the task's tags (ECS API reference).
    Object.assign(task, {
      desiredStatus: 'STOPPED',
      lastStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: typeof body.reason === 'string' ? body.reason : 'Task stopped by user',
      stoppedAt: now(),
      tags: [],
    });
    return { task: this.view(task, false) };
  }

  private listTasks(body: Json): Json {
    if (
      body.startedBy !== undefined &&
      ['family', 'launchType', 'desiredStatus', 'containerInstance', 'serviceName'].some((k) => body[k] !== undefined)
    ) {
      throw new EcsError('InvalidParameterException', 'cannot specify startedBy with other arguments');
    }
    const max = Number(body.maxResults ?? 100);
    if (max < 1 || max > 100) throw new EcsError('InvalidParameterException', 'maxResults must be between 1 and 100');
    // ECS's default desiredStatus filter is RUNNING.
    const desired = typeof body.desiredStatus === 'string' ? body.desiredStatus : 'RUNNING';
    const all = [...this.tasks.values()].filter(
      (t) =>
        t.clusterArn === clusterArn(body.cluster) &&
        t.desiredStatus === desired &&
        (body.startedBy === undefined || t.startedBy === body.startedBy),
    );
    const start = typeof body.nextToken === 'string' ? Number(Buffer.from(body.nextToken, 'base64url').toString()) : 0;
    const page = all.slice(start, start + max);
    const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
    return { taskArns: page.map((t) => t.taskArn), ...(next ? { nextToken: next } : {}) };
  }

  private describeTasks(body: Json): Json {
    const refs = (body.tasks as string[] | undefined) ?? [];
    if (refs.length === 0 || refs.length > 100)
      throw new EcsError('InvalidParameterException', 'Tasks cannot be empty and can have at most 100 items.');
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
    if (!t) throw new EcsError('InvalidParameterException', 'The specified resource was not found.');
    t.tags.push(...((body.tags as { key: string; value: string }[]) ?? []));
    return {};
  }

  private view(t: FakeTask, withTags: boolean): Json {
    const { tags, placementConstraints: _p, ...rest } = t;
    return withTags ? { ...rest, tags } : rest;
  }
}
