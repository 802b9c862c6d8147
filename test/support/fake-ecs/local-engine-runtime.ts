import { randomBytes, randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import type { FakeTask } from './task-lifecycle.js';
import { TaskMetadataEndpoint } from './task-metadata-endpoint.js';
import type { PlacementFailure, TaskHandle, TaskRuntime } from './task-runtime.js';

// Runs the fake ECS endpoint's tasks on a real Docker engine the way the ECS container agent runs them on a
// container instance. Which agent behaviour it follows, and where it differs, is listed in README.md next to this
// file; each rule below names its source (aws/amazon-ecs-agent paths are at its 2026-06 master).

type Json = Record<string, unknown>;

/** The ECS agent's Docker labels (agent/engine/docker_task_engine.go: labelPrefix "com.amazonaws.ecs."). */
export const ECS_LABEL = {
  taskArn: 'com.amazonaws.ecs.task-arn',
  containerName: 'com.amazonaws.ecs.container-name',
  family: 'com.amazonaws.ecs.task-definition-family',
  version: 'com.amazonaws.ecs.task-definition-version',
  cluster: 'com.amazonaws.ecs.cluster',
} as const;

/** ECS_CONTAINER_STOP_TIMEOUT's default: a container without `stopTimeout` gets 30 s between SIGTERM and SIGKILL. */
export const DEFAULT_STOP_TIMEOUT_SECONDS = 30;

export interface LocalEngineRuntimeOptions {
  /** The engine the tasks run on: this runtime is its only container instance. */
  docker: Docker;
  /** Address the task metadata endpoint listens on and containers reach it at (see bridgeGatewayAddress). */
  metadataHost: string;
  /** Docker network for a task definition's network mode; default bridge → `bridge`, host → `host`, none → `none`. */
  networkFor?: (networkMode: string) => string;
  /** Labels added to every container and volume this runtime creates (a test run's cleanup label). */
  labels?: Record<string, string>;
  /** ECS_CONTAINER_STOP_TIMEOUT, seconds (default 30). */
  defaultStopTimeoutSeconds?: number;
  /** How long stopped tasks' containers and task volumes are kept (ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION, 3 h on
   * ECS); default 0: removed as soon as the task is STOPPED. */
  cleanupAfterMs?: number;
  region?: string;
  /**
   * Security options the container instance's Docker daemon applies to every container: an ECS host configured for
   * capability-form Docker daemons runs dockerd with `"seccomp-profile": "unconfined"` (and no AppArmor confinement),
   * which a task definition cannot ask for (`dockerSecurityOptions` takes no seccomp option). Default none.
   */
  instanceSecurityOpt?: string[];
}

type Status = 'PENDING' | 'RUNNING' | 'STOPPED';
type Health = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';

/** One container of a task, as the runtime tracks it. */
interface Ctr {
  def: Json;
  name: string;
  dockerName: string;
  essential: boolean;
  id?: string;
  status: Status;
  exitCode?: number;
  health: Health;
  startedAt?: number;
  createdAt?: number;
  finishedAt?: number;
  endpointId: string;
  /** Settles when this container's start attempt has ended (started, failed or abandoned). */
  settled: Promise<void>;
  /** The task's `containers[]` entry DescribeTasks shows. */
  view: Json;
}

/** One task, as the runtime runs it. */
interface Run {
  handle: TaskHandle;
  def: Json;
  cluster: string;
  ctrs: Map<string, Ctr>;
  /** Docker volume names of the task's task-scoped volumes (removed with the task). */
  volumes: string[];
  /** Each task volume's source for a bind: a host path or a Docker volume name. */
  sources: Map<string, string>;
  stopping?: Promise<void>;
  waiters: (() => void)[];
}

class DependencyError extends Error {}

const arr = <T = Json>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const seconds = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback);
const statusOf = (err: unknown) => (err as { statusCode?: number } | undefined)?.statusCode;
const messageOf = (err: unknown) =>
  ((err as { json?: { message?: string } })?.json?.message ?? (err as Error)?.message ?? String(err)).trim();

function clusterNameOf(task: FakeTask): string {
  return task.clusterArn.split('/').pop() ?? 'default';
}

/** The ECS agent's Docker name for a task's container or volume (docker_task_engine.go createContainer;
 * agent/api/task/task.go volumeName): `ecs-<family>-<revision>-<name>-<random hex>`. */
function ecsDockerName(def: Json, name: string): string {
  return `ecs-${def.family}-${def.revision}-${name.replace(/[^A-Za-z0-9-]+/g, '')}-${randomBytes(10).toString('hex')}`;
}

/** The runtime: give it to `new FakeEcs({ runtime })`. Call `shutdown()` when done. */
export class LocalEngineRuntime implements TaskRuntime {
  readonly instanceArn: string;
  private readonly runs = new Map<string, Run>();
  private readonly metadata = new TaskMetadataEndpoint();
  private readonly docker: Docker;
  private readonly stopTimeout: number;
  private readonly cleanupAfterMs: number;
  private readonly background = new Set<Promise<unknown>>();

  private constructor(private readonly options: LocalEngineRuntimeOptions) {
    this.docker = options.docker;
    this.stopTimeout = options.defaultStopTimeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS;
    this.cleanupAfterMs = options.cleanupAfterMs ?? 0;
    this.instanceArn = `arn:aws:ecs:${options.region ?? 'us-east-1'}:123456789012:container-instance/local/${randomBytes(16).toString('hex')}`;
  }

  static async start(options: LocalEngineRuntimeOptions): Promise<LocalEngineRuntime> {
    const runtime = new LocalEngineRuntime(options);
    await runtime.metadata.start(options.metadataHost);
    return runtime;
  }

  /**
   * Placement on the one container instance. `distinctInstance` keeps a task off an instance that runs another task
   * of its group — and, as on ECS, a task whose desired status is already STOPPED does not count, even while its
   * containers are still stopping (ECS developer guide, "Task placement constraints"; the RunTask failure reason is
   * "DistinctInstance placement constraint unsatisfied.", cf. aws/containers-roadmap#1201, amazon-ecs-agent#3044).
   */
  place(request: Json, definition: Json, tasks: Iterable<FakeTask>): PlacementFailure | undefined {
    const constraints = [...arr(request.placementConstraints), ...arr(definition.placementConstraints)];
    if (!constraints.some((c) => c.type === 'distinctInstance')) return undefined;
    const group = typeof request.group === 'string' ? request.group : `family:${definition.family}`;
    for (const t of tasks) {
      if (t.containerInstanceArn === this.instanceArn && t.group === group && t.desiredStatus !== 'STOPPED') {
        return { arn: this.instanceArn, reason: 'DistinctInstance placement constraint unsatisfied.' };
      }
    }
    return undefined;
  }

  start(handle: TaskHandle, definition: Json): void {
    const task = handle.task;
    task.containerInstanceArn = this.instanceArn;
    task.lastStatus = 'PENDING';
    task.launchType ??= 'EC2';
    task.version++;
    const overrides = arr((task.overrides as Json | undefined)?.containerOverrides);
    const run: Run = {
      handle,
      def: definition,
      cluster: clusterNameOf(task),
      ctrs: new Map(),
      volumes: [],
      sources: new Map(),
      waiters: [],
    };
    for (const raw of arr(definition.containerDefinitions)) {
      const name = String(raw.name);
      const def = applyOverride(
        raw,
        overrides.find((o) => o.name === name),
      );
      const view = task.containers.find((c) => c.name === name) ?? { name };
      delete view.runtimeId;
      view.lastStatus = 'PENDING';
      run.ctrs.set(name, {
        def,
        name,
        dockerName: ecsDockerName(definition, name),
        essential: def.essential !== false,
        status: 'PENDING',
        health: 'UNKNOWN',
        endpointId: randomUUID(),
        settled: Promise.resolve(),
        view,
      });
    }
    this.runs.set(task.taskArn, run);
    this.track(this.launch(run));
  }

  stop(handle: TaskHandle): void {
    const run = this.runs.get(handle.task.taskArn);
    if (run) this.track(this.stopRun(run));
    else handle.stopped('UserInitiated', 'Task stopped by user');
  }

  /** Stops every task still running and removes what this runtime created; stops the metadata endpoint. */
  async shutdown(): Promise<void> {
    for (const run of this.runs.values()) {
      run.handle.stopping('UserInitiated', 'runtime shut down');
      this.track(this.stopRun(run));
    }
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
    await Promise.all([...this.runs.values()].map((run) => this.cleanup(run)));
    await this.metadata.stop();
  }

  /** Resolves once every task that was asked to stop has stopped (and been cleaned up). */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch(() => undefined).finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  // --- start -----------------------------------------------------------------------------------------------------

  private async launch(run: Run): Promise<void> {
    try {
      await this.createVolumes(run);
      await Promise.all([...run.ctrs.values()].map((c) => (c.settled = this.startWhenReady(run, c))));
      if (!run.stopping) {
        const task = run.handle.task;
        task.lastStatus = 'RUNNING';
        task.startedAt = Date.now() / 1000;
        task.version++;
      }
    } catch (err) {
      // A container that cannot be pulled, created or started, or whose dependency can never be met: ECS stops the
      // task with TaskFailedToStart (stopped-task error codes, ECS developer guide).
      run.handle.stopping('TaskFailedToStart', messageOf(err));
      this.track(this.stopRun(run));
    }
  }

  /** Task volumes: host paths are bound as they are; everything else becomes a Docker volume (task.go). */
  private async createVolumes(run: Run): Promise<void> {
    for (const v of arr(run.def.volumes)) {
      const host = v.host as Json | undefined;
      const config = v.dockerVolumeConfiguration as Json | undefined;
      if (typeof host?.sourcePath === 'string' && host.sourcePath !== '') {
        run.sources.set(String(v.name), host.sourcePath);
        continue;
      }
      if (v.efsVolumeConfiguration || v.fsxWindowsFileServerVolumeConfiguration || v.configuredAtLaunch) {
        throw new Error(`volume '${v.name}': this runtime supports host and Docker volumes only`);
      }
      if (config && config.scope === 'shared') {
        const exists = await this.docker
          .getVolume(String(v.name))
          .inspect()
          .then(
            () => true,
            (err) => (statusOf(err) === 404 ? false : Promise.reject(err)),
          );
        if (!exists && !config.autoprovision) throw new Error(`shared volume '${v.name}' does not exist`);
        if (!exists) await this.createVolume(String(v.name), config);
        run.sources.set(String(v.name), String(v.name));
        continue;
      }
      // Task scope: an empty `host` (scratch space) and `dockerVolumeConfiguration` with scope task both become a
      // volume named like the agent's, removed with the task (initializeDockerLocalVolumes, addTaskScopedVolumes).
      const name = ecsDockerName(run.def, String(v.name));
      await this.createVolume(name, config ?? {});
      run.volumes.push(name);
      run.sources.set(String(v.name), name);
    }
  }

  private async createVolume(name: string, config: Json): Promise<void> {
    await this.docker.createVolume({
      Name: name,
      Driver: typeof config.driver === 'string' ? config.driver : 'local',
      DriverOpts: (config.driverOpts as Record<string, string> | undefined) ?? {},
      Labels: { ...((config.labels as Record<string, string> | undefined) ?? {}), ...(this.options.labels ?? {}) },
    });
  }

  /**
   * Creates and starts one container once its dependencies allow (agent/engine/dependencygraph/graph.go): START —
   * the dependency runs (or has run); COMPLETE — it has exited; SUCCESS — it has exited 0; HEALTHY — its Docker
   * health check passes. `volumesFrom` sources must exist first. A dependency's `startTimeout` bounds the wait for
   * COMPLETE, SUCCESS and HEALTHY (hasDependencyTimedOut).
   */
  private async startWhenReady(run: Run, c: Ctr): Promise<void> {
    const deps = arr(c.def.dependsOn).map((d) => ({ name: String(d.containerName), cond: String(d.condition) }));
    for (const v of arr(c.def.volumesFrom)) deps.push({ name: String(v.sourceContainer), cond: 'CREATE' });
    while (!run.stopping) {
      const blocking = deps.filter((d) => !this.dependencyMet(run, c, d.name, d.cond));
      if (blocking.length === 0) break;
      await this.nextChange(run, 250);
    }
    if (run.stopping) return;
    const image = String(c.def.image);
    await this.ensureImage(image);
    const created = await this.docker.createContainer(
      containerCreateOptions(c.def, {
        dockerName: c.dockerName,
        definition: run.def,
        taskArn: run.handle.task.taskArn,
        cluster: run.cluster,
        sources: run.sources,
        dockerNames: new Map([...run.ctrs.values()].map((x) => [x.name, x.dockerName])),
        metadataUri: this.metadata.register(c.endpointId, this.metadataSource(run, c)),
        region: this.options.region ?? 'us-east-1',
        network: (this.options.networkFor ?? defaultNetwork)(String(run.def.networkMode ?? 'bridge')),
        labels: this.options.labels ?? {},
        securityOpt: this.options.instanceSecurityOpt ?? [],
      }),
    );
    c.id = created.id;
    c.createdAt = Date.now();
    c.view.runtimeId = created.id;
    this.notify(run);
    if (run.stopping) return;
    try {
      await created.start();
    } catch (err) {
      c.view.reason = `CannotStartContainerError: ${messageOf(err)}`;
      throw new Error(`CannotStartContainerError: ${c.name}: ${messageOf(err)}`);
    }
    c.status = 'RUNNING';
    c.startedAt = Date.now();
    c.view.lastStatus = 'RUNNING';
    run.handle.task.version++;
    this.notify(run);
    this.track(this.watchExit(run, c));
    if (c.def.healthCheck) this.track(this.watchHealth(run, c));
  }

  private dependencyMet(run: Run, target: Ctr, name: string, cond: string): boolean {
    const dep = run.ctrs.get(name);
    if (!dep) throw new DependencyError(`${target.name} depends on unknown container ${name}`);
    const fail = (why: string) => {
      throw new DependencyError(`${target.name} depends on ${name} being ${cond}, but ${why}`);
    };
    const timeout = typeof dep.def.startTimeout === 'number' ? dep.def.startTimeout * 1000 : 0;
    const timedOut = timeout > 0 && dep.startedAt !== undefined && Date.now() > dep.startedAt + timeout;
    switch (cond) {
      case 'CREATE':
        return dep.id !== undefined;
      case 'START':
        return dep.status !== 'PENDING';
      case 'COMPLETE':
        if (dep.status === 'STOPPED') return true;
        if (timedOut) fail('its startTimeout passed');
        return false;
      case 'SUCCESS':
        if (dep.status === 'STOPPED') return dep.exitCode === 0 || fail(`it exited ${dep.exitCode}`);
        if (timedOut) fail('its startTimeout passed');
        return false;
      case 'HEALTHY':
        if (dep.health === 'HEALTHY') return true;
        if (dep.health === 'UNHEALTHY') fail('it is unhealthy');
        if (dep.status === 'STOPPED') fail('it stopped');
        if (timedOut) fail('its startTimeout passed');
        return false;
      default:
        return fail('that condition is unknown');
    }
  }

  /** The ECS agent pulls per ECS_IMAGE_PULL_BEHAVIOR; here the engine's copy is used and only a missing image is
   * pulled (like `prefer-cached`): no registry is reachable in tests. */
  private async ensureImage(image: string): Promise<void> {
    try {
      await this.docker.getImage(image).inspect();
      return;
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    try {
      const stream = await this.docker.pull(image);
      await new Promise<void>((resolve, reject) =>
        this.docker.modem.followProgress(stream, (err: unknown, out: Json[]) => {
          const failed = out?.find((e) => e.error);
          if (err || failed) reject(err ?? new Error(String(failed?.error)));
          else resolve();
        }),
      );
    } catch (err) {
      throw new Error(`CannotPullContainerError: ${image}: ${messageOf(err)}`);
    }
  }

  /** The task metadata endpoint's answers for one container (v4 container and task responses). */
  private metadataSource(run: Run, c: Ctr) {
    const containerJson = (x: Ctr): Json => ({
      DockerId: x.id ?? '',
      Name: x.name,
      DockerName: x.dockerName,
      Image: x.def.image,
      Labels: {
        [ECS_LABEL.taskArn]: run.handle.task.taskArn,
        [ECS_LABEL.containerName]: x.name,
        [ECS_LABEL.family]: String(run.def.family),
        [ECS_LABEL.version]: String(run.def.revision),
        [ECS_LABEL.cluster]: run.cluster,
      },
      DesiredStatus: run.stopping ? 'STOPPED' : 'RUNNING',
      KnownStatus: x.status,
      ...(x.exitCode !== undefined ? { ExitCode: x.exitCode } : {}),
      Type: 'NORMAL',
    });
    return {
      container: () => containerJson(c),
      task: (): Json => ({
        Cluster: run.cluster,
        TaskARN: run.handle.task.taskArn,
        Family: run.def.family,
        Revision: String(run.def.revision),
        DesiredStatus: run.handle.task.desiredStatus,
        KnownStatus: run.handle.task.lastStatus,
        LaunchType: 'EC2',
        Containers: [...run.ctrs.values()].map(containerJson),
      }),
    };
  }

  /** An essential container's exit stops the task (task.go updateTaskDesiredStatusUnsafe: "task desired status must
   * be stopped if any essential container is stopped"): stop code EssentialContainerExited. */
  private async watchExit(run: Run, c: Ctr): Promise<void> {
    if (!c.id) return;
    await this.docker
      .getContainer(c.id)
      .wait()
      .catch(() => undefined);
    await this.recordExit(run, c);
    if (c.essential && !run.stopping) {
      run.handle.stopping('EssentialContainerExited', 'Essential container in task exited');
      await this.stopRun(run);
    }
  }

  private async recordExit(run: Run, c: Ctr): Promise<void> {
    if (c.status === 'STOPPED' || !c.id) return;
    const info = await this.docker
      .getContainer(c.id)
      .inspect()
      .catch(() => undefined);
    if (info?.State.Running) return;
    c.status = 'STOPPED';
    c.exitCode = info?.State.ExitCode;
    c.finishedAt = Date.now();
    c.view.lastStatus = 'STOPPED';
    if (c.exitCode !== undefined) c.view.exitCode = c.exitCode;
    if (info?.State.OOMKilled) c.view.reason = 'OutOfMemoryError: Container killed due to memory usage';
    run.handle.task.version++;
    this.notify(run);
  }

  /** Docker's health status as ECS reports it (HEALTHY / UNHEALTHY / UNKNOWN), polled while the container runs. */
  private async watchHealth(run: Run, c: Ctr): Promise<void> {
    while (c.status === 'RUNNING' && c.id) {
      const info = await this.docker
        .getContainer(c.id)
        .inspect()
        .catch(() => undefined);
      const status = info?.State.Health?.Status;
      const health: Health = status === 'healthy' ? 'HEALTHY' : status === 'unhealthy' ? 'UNHEALTHY' : 'UNKNOWN';
      if (health !== c.health) {
        c.health = health;
        c.view.healthStatus = health;
        run.handle.task.healthStatus = taskHealth(run);
        run.handle.task.version++;
        this.notify(run);
      }
      await this.nextChange(run, 250);
    }
  }

  // --- stop ------------------------------------------------------------------------------------------------------

  /**
   * Stops the task's containers in reverse dependency order — a container stops only after every container that
   * depends on it has stopped (graph.go verifyShutdownOrder) — each with `docker stop -t <stopTimeout>` (the
   * container's `stopTimeout`, else ECS_CONTAINER_STOP_TIMEOUT; docker_task_engine.go stopContainer). Meanwhile the
   * task is STOPPING (desired STOPPED); STOPPED once every container has stopped.
   */
  private stopRun(run: Run): Promise<void> {
    run.stopping ??= (async () => {
      const task = run.handle.task;
      if (task.lastStatus !== 'STOPPED') {
        task.lastStatus = 'STOPPING';
        task.version++;
      }
      this.notify(run);
      const done = new Map<string, Promise<void>>();
      const stopOne = (c: Ctr): Promise<void> => {
        let p = done.get(c.name);
        if (!p) {
          const dependents = [...run.ctrs.values()].filter((d) =>
            arr(d.def.dependsOn).some((x) => x.containerName === c.name),
          );
          p = (async () => {
            await Promise.all(dependents.map(stopOne));
            await c.settled.catch(() => undefined);
            if (c.id && c.status !== 'STOPPED') {
              const t = typeof c.def.stopTimeout === 'number' ? c.def.stopTimeout : this.stopTimeout;
              await this.docker
                .getContainer(c.id)
                .stop({ t })
                .catch((err) => {
                  if (statusOf(err) !== 304 && statusOf(err) !== 404) throw err;
                });
              await this.recordExit(run, c);
            }
            if (c.status !== 'STOPPED') {
              c.status = 'STOPPED';
              c.view.lastStatus = 'STOPPED';
            }
          })();
          done.set(c.name, p);
        }
        return p;
      };
      await Promise.allSettled([...run.ctrs.values()].map(stopOne));
      // Without a cleanup delay the containers go before the task shows STOPPED, so a test that saw STOPPED sees a
      // clean engine; with one, as on ECS, they stay (stopped) for that long after.
      if (this.cleanupAfterMs === 0) await this.cleanup(run);
      else setTimeout(() => this.track(this.cleanup(run)), this.cleanupAfterMs).unref();
      run.handle.stopped('TaskFailedToStart', 'Task stopped');
    })();
    return run.stopping;
  }

  /** Removes a stopped task's containers and task-scoped volumes (the agent's task cleanup). */
  private async cleanup(run: Run): Promise<void> {
    for (const c of run.ctrs.values()) {
      this.metadata.forget(c.endpointId);
      if (c.id)
        await this.docker
          .getContainer(c.id)
          .remove({ force: true })
          .catch(() => undefined);
    }
    for (const v of run.volumes) {
      await this.docker
        .getVolume(v)
        .remove()
        .catch(() => undefined);
    }
  }

  // --- change notification -----------------------------------------------------------------------------------------

  private notify(run: Run): void {
    const waiters = run.waiters.splice(0);
    for (const w of waiters) w();
  }

  /** Resolves at the task's next state change, or after `ms` (health and timeouts are polled). */
  private nextChange(run: Run, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      run.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** What containerCreateOptions needs besides the container definition. */
export interface ContainerContext {
  dockerName: string;
  /** The task definition (family, revision). */
  definition: Json;
  taskArn: string;
  cluster: string;
  /** Each task volume's bind source: a host path or a Docker volume name. */
  sources: ReadonlyMap<string, string>;
  /** The Docker name of each container of the task (for volumesFrom). */
  dockerNames: ReadonlyMap<string, string>;
  /** This container's ECS_CONTAINER_METADATA_URI_V4. */
  metadataUri: string;
  region: string;
  network: string;
  labels: Record<string, string>;
  /** The instance daemon's security options (LocalEngineRuntimeOptions.instanceSecurityOpt). */
  securityOpt?: string[];
}

/**
 * The Docker create options for a container definition (with its override applied), as the ECS agent builds them
 * (agent/api/task/task.go dockerConfig, dockerHostConfig, dockerHostBinds, dockerVolumesFrom) from what the ECS
 * control plane sends (ECS developer guide, "Task definition parameters": each parameter names the `docker run`
 * option it maps to).
 */
export function containerCreateOptions(def: Json, ctx: ContainerContext): Docker.ContainerCreateOptions {
  const env = new Map<string, string>();
  for (const kv of arr(def.environment)) env.set(String(kv.name), String(kv.value ?? ''));
  const region = ctx.region;
  // The agent adds the region unless the definition sets it (docker_task_engine.go ApplyRegionToContainer).
  if (!env.has('AWS_REGION')) env.set('AWS_REGION', region);
  if (!env.has('AWS_DEFAULT_REGION')) env.set('AWS_DEFAULT_REGION', region);
  env.set('ECS_CONTAINER_METADATA_URI_V4', ctx.metadataUri);
  env.set('ECS_CONTAINER_METADATA_URI', ctx.metadataUri.replace('/v4/', '/v3/'));
  const linux = (def.linuxParameters as Json | undefined) ?? {};
  const caps = (linux.capabilities as Json | undefined) ?? {};
  const health = def.healthCheck as Json | undefined;
  const host: Docker.HostConfig = {
    Binds: arr(def.mountPoints).map(
      (m) => `${ctx.sources.get(String(m.sourceVolume))}:${m.containerPath}${m.readOnly ? ':ro' : ''}`,
    ),
    VolumesFrom: arr(def.volumesFrom).map(
      (v) => `${ctx.dockerNames.get(String(v.sourceContainer))}${v.readOnly ? ':ro' : ''}`,
    ),
    Privileged: def.privileged === true,
    CapAdd: arr<string>(caps.add),
    CapDrop: arr<string>(caps.drop),
    NetworkMode: ctx.network,
    ReadonlyRootfs: def.readonlyRootFilesystem === true,
    ExtraHosts: arr(def.extraHosts).map((h) => `${h.hostname}:${h.ipAddress}`),
  };
  if (linux.initProcessEnabled === true) host.Init = true;
  if (typeof linux.sharedMemorySize === 'number') host.ShmSize = linux.sharedMemorySize * 1024 * 1024;
  if (typeof def.memory === 'number') host.Memory = def.memory * 1024 * 1024;
  if (typeof def.memoryReservation === 'number') host.MemoryReservation = def.memoryReservation * 1024 * 1024;
  if (typeof def.cpu === 'number' && def.cpu > 0) host.CpuShares = Math.max(2, def.cpu);
  const securityOpt = [...(ctx.securityOpt ?? []), ...arr<string>(def.dockerSecurityOptions)];
  if (securityOpt.length > 0) host.SecurityOpt = securityOpt;
  const options: Docker.ContainerCreateOptions = {
    name: ctx.dockerName,
    Image: String(def.image),
    Env: [...env].map(([k, v]) => `${k}=${v}`),
    Labels: {
      ...((def.dockerLabels as Record<string, string> | undefined) ?? {}),
      ...ctx.labels,
      // Last, so a definition's dockerLabels cannot override them (docker_task_engine.go createContainer).
      [ECS_LABEL.taskArn]: ctx.taskArn,
      [ECS_LABEL.containerName]: String(def.name),
      [ECS_LABEL.family]: String(ctx.definition.family),
      [ECS_LABEL.version]: String(ctx.definition.revision),
      [ECS_LABEL.cluster]: ctx.cluster,
    },
    HostConfig: host,
  };
  if (Array.isArray(def.command)) options.Cmd = arr<string>(def.command);
  if (Array.isArray(def.entryPoint)) options.Entrypoint = arr<string>(def.entryPoint);
  if (typeof def.user === 'string') options.User = def.user;
  if (typeof def.workingDirectory === 'string') options.WorkingDir = def.workingDirectory;
  if (typeof def.hostname === 'string') options.Hostname = def.hostname;
  if (health) {
    // ECS defaults: interval 30 s, timeout 5 s, retries 3, startPeriod off (HealthCheck API reference).
    const ns = (s: number) => Math.round(s * 1e9);
    options.Healthcheck = {
      Test: arr<string>(health.command),
      Interval: ns(seconds(health.interval, 30)),
      Timeout: ns(seconds(health.timeout, 5)),
      Retries: seconds(health.retries, 3),
      StartPeriod: ns(seconds(health.startPeriod, 0)),
    };
  }
  return options;
}

/** bridge → the engine's default bridge; host and none as they are; awsvpc (not modelled: no ENI) → bridge. */
function defaultNetwork(mode: string): string {
  return mode === 'host' || mode === 'none' ? mode : 'bridge';
}

/** A container definition with its RunTask override applied: `command` replaces, `environment` adds and replaces
 * (RunTask API reference, ContainerOverride). */
function applyOverride(def: Json, override: Json | undefined): Json {
  if (!override) return def;
  const out: Json = { ...def };
  if (Array.isArray(override.command)) out.command = override.command;
  if (Array.isArray(override.environment)) {
    const env = new Map(arr(def.environment).map((kv) => [String(kv.name), kv]));
    for (const kv of arr(override.environment)) env.set(String(kv.name), kv);
    out.environment = [...env.values()];
  }
  for (const k of ['cpu', 'memory', 'memoryReservation'] as const) if (override[k] !== undefined) out[k] = override[k];
  return out;
}

/** A task's health: UNHEALTHY if an essential container is, HEALTHY if all essential containers with a health check
 * are, else UNKNOWN (ECS developer guide, "Determining task health using container health checks"). */
function taskHealth(run: Run): string {
  const checked = [...run.ctrs.values()].filter((c) => c.essential && c.def.healthCheck);
  if (checked.some((c) => c.health === 'UNHEALTHY')) return 'UNHEALTHY';
  if (checked.length > 0 && checked.every((c) => c.health === 'HEALTHY')) return 'HEALTHY';
  return 'UNKNOWN';
}
