import type Docker from 'dockerode';
import type {
  AgentBackend,
  AgentDetails,
  AgentRecord,
  LaunchOutcome,
  StopReport,
} from '../../agents/agent-backend.port.js';
import { BackendUnavailableError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import {
  agentContainerOptions,
  containerNameOf,
  dindContainerOptions,
  type ImageStart,
  LABEL,
  labelsFor,
  sidecarNamesFor,
} from './container-spec.js';
import { createDockerClient, type EngineAddress, engineAddress, socketGroupId } from './docker-client.js';
import type { DockerClusterProfile, DockerLaunchRequest } from './docker-profiles.js';
import { DEFAULT_STOP_SECONDS, removeSocketAgentAndChildren, stopAndRemove } from './socket-children.js';
import { claimSocketSlot, readSocketSlot, releaseSocketSlot, removeSlotClaim, type SocketSlot } from './socket-slot.js';

/** Options of the Docker backend. */
export interface DockerBackendOptions {
  logger?: Logger;
  /** Seconds between SIGTERM and SIGKILL when stopping agents and their children (default 3). */
  stopSeconds?: number;
  /** Told how many containers a socket-mode job started were removed with its agent (for metrics). */
  onChildrenRemoved?: (count: number) => void;
}

/** What the backend reads from a container, whether it came from a listing or an inspect. */
interface Seen {
  id: string;
  name: string;
  labels: Record<string, string>;
  state: string;
  created: Date;
  startedAt?: Date;
}

const MASKED = '********';
const SECRET_ENV = new Set(['GO_EA_AUTO_REGISTER_KEY']);
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'ETIMEDOUT',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
]);

function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number } | undefined)?.statusCode;
}

function messageOf(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | undefined)?.json;
  if (json && typeof json.message === 'string') return json.message;
  return err instanceof Error ? err.message : String(err);
}

/** True when the engine could not be reached at all (as opposed to answering with an error). */
function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return (code !== undefined && CONNECTION_ERRORS.has(code)) || /socket hang up|timeout/i.test(messageOf(err));
}

function unavailable(address: EngineAddress, err: unknown): BackendUnavailableError {
  return new BackendUnavailableError(`Docker engine at ${address.url} is unavailable: ${messageOf(err)}`, {
    cause: err,
  });
}

/** A live container is one the engine may still run: anything but exited or dead. */
/** How long a create that lost the name race waits for the winner's container to become visible. */
const NAME_HOLDER_WAIT_MS = 5_000;

function isLive(state: string): boolean {
  return state !== 'exited' && state !== 'dead';
}

function statusFor(state: string): AgentRecord['status'] {
  switch (state) {
    case 'created':
      return 'pending';
    case 'removing':
      return 'stopping';
    // 'paused' (frozen from outside) counts as running, not stopping: the reconciler skips stopping agents, and a
    // paused one never resumes by itself; as running, its lost contact or missing registration gets it reaped.
    case 'exited':
    case 'dead':
      return 'stopped';
    default:
      return 'running';
  }
}

function fromListing(c: Docker.ContainerInfo): Seen {
  return {
    id: c.Id,
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    labels: c.Labels ?? {},
    state: c.State,
    created: new Date(c.Created * 1000),
  };
}

function fromInspect(c: Docker.ContainerInspectInfo): Seen {
  const started = c.State.StartedAt && !c.State.StartedAt.startsWith('0001-') ? new Date(c.State.StartedAt) : undefined;
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    labels: c.Config.Labels ?? {},
    state: c.State.Status,
    created: new Date(c.Created),
    startedAt: started,
  };
}

function agentIdOf(c: Seen): string {
  return c.labels[LABEL.agentId] ?? c.id;
}

function recordOf(c: Seen): AgentRecord {
  const l = c.labels;
  const record: AgentRecord = {
    agentId: l[LABEL.agentId] ?? '',
    ...(l[LABEL.jobId] !== undefined ? { jobId: Number(l[LABEL.jobId]) } : { pool: l[LABEL.pool] ?? '' }),
    clusterId: l[LABEL.clusterId] ?? '',
    pipeline: l[LABEL.pipeline] ?? '',
    ref: c.id,
    status: statusFor(c.state),
    createdAt: c.created,
    dockerMode: l[LABEL.dockerMode] as AgentRecord['dockerMode'],
  };
  if (c.startedAt) record.startedAt = c.startedAt;
  return record;
}

/** Signals a launch that must end with a `failed` outcome carrying the engine's words. */
class LaunchFailedError extends Error {}

/**
 * The Docker backend: each agent is a container on one Docker engine, found by labels (never by memory). Socket
 * mode allows one agent per engine at a time, so the containers created after it are its job's (see
 * socket-children.ts); sidecar mode gives each agent its own DinD container and volumes.
 */
export class DockerBackend implements AgentBackend<DockerClusterProfile> {
  readonly kind = 'docker' as const;
  private readonly stopSeconds: number;
  /** One teardown per agent at a time: list, stop and launch may all find the same dead agent. */
  private readonly teardowns = new Map<string, Promise<number | undefined>>();
  /** One pull per image at a time: concurrent launches of a missing image share it. */
  private readonly pulls = new Map<string, Promise<void>>();

  constructor(
    private readonly docker: Docker,
    readonly address: EngineAddress,
    private readonly options: DockerBackendOptions = {},
  ) {
    this.stopSeconds = options.stopSeconds ?? DEFAULT_STOP_SECONDS;
  }

  async launch(request: DockerLaunchRequest): Promise<LaunchOutcome> {
    const name = containerNameOf(request);
    try {
      return await this.launchNamed(request, name, true);
    } catch (err) {
      if (isUnreachable(err)) throw unavailable(this.address, err);
      return { kind: 'failed', reason: messageOf(err) };
    }
  }

  private async launchNamed(request: DockerLaunchRequest, name: string, retry: boolean): Promise<LaunchOutcome> {
    const { profile } = request;
    const found = await this.inspectByName(name);
    if (found) {
      const outcome = await this.settleExisting(request, found);
      if (outcome) return outcome;
    }
    let agentStart: ImageStart;
    let dindStart: ImageStart | undefined;
    try {
      agentStart = await this.ensureImage(profile.image, request.pullImage === true);
      if (profile.dockerMode === 'sidecar') dindStart = await this.ensureImage(profile.dindImage);
    } catch (err) {
      if (err instanceof LaunchFailedError) return { kind: 'failed', reason: err.message };
      throw err;
    }
    if (profile.dockerMode === 'socket') {
      // Cheap first look, so a busy engine costs no container create; the claim below is what decides.
      const busy = await this.socketSlotBusy();
      if (busy) return busy;
    }
    const socket =
      profile.dockerMode === 'socket'
        ? { hostPath: this.socketHostPath(), gid: socketGroupId(this.address) }
        : undefined;
    // Sidecar volumes before the agent container: creating a container auto-creates missing volumes without labels,
    // and the labels are how teardown finds them. Volume creation is idempotent, so a lost name race costs nothing.
    if (profile.dockerMode === 'sidecar') await this.createSidecarVolumes(request, name);
    let created: Docker.Container;
    try {
      created = await this.docker.createContainer(
        agentContainerOptions(request, { name, imageStart: agentStart, socket }),
      );
    } catch (err) {
      // The name is taken: another create-agent for this job won the race (or a dead agent still holds it).
      if (statusCode(err) !== 409) throw err;
      const holder = await this.nameHolder(name);
      if (holder) {
        const outcome = await this.settleExisting(request, holder);
        if (outcome) return outcome;
      }
      if (retry) return this.launchNamed(request, name, false);
      throw err;
    }
    if (profile.dockerMode === 'socket') {
      const taken = await this.claimSocketSlotFor(request, created.id);
      if (taken) {
        // Never started, so it has no children; it never held the slot, so there is nothing to release.
        await stopAndRemove(this.docker, created.id, 0);
        return taken;
      }
    }
    let started = false;
    try {
      if (profile.dockerMode === 'sidecar') await this.startSidecar(request, name, dindStart);
      await created.start();
      started = true;
      const seen = fromInspect(await created.inspect());
      this.options.logger?.info(
        { agentId: request.agentId, container: name, id: created.id, mode: profile.dockerMode },
        'agent container started',
      );
      return { kind: 'launched', agent: recordOf(seen) };
    } catch (err) {
      // A half-made agent is removed at once: GoCD re-sends create-agent, and a clean slate lets it launch again.
      // An agent that never ran has no socket children: skip the search, which would only find strangers.
      await this.containersOf(request.agentId)
        .then((containers) => this.teardown(request.agentId, containers, started))
        .catch((cleanupErr: unknown) =>
          this.options.logger?.warn({ agentId: request.agentId, err: cleanupErr }, 'cleanup after failed launch'),
        );
      throw err;
    }
  }

  /**
   * A container already holds this job's name: a live one is the job's agent (`existing`); a dead one is torn down
   * (children, sidecar, volumes) so the caller can create afresh. A container without our labels is refused.
   */
  private async settleExisting(request: DockerLaunchRequest, found: Seen): Promise<LaunchOutcome | undefined> {
    if (found.labels[LABEL.agentId] !== request.agentId) {
      return {
        kind: 'failed',
        reason: `a container named ${found.name} exists that is not this job's agent; remove it`,
      };
    }
    if (found.state === 'removing') {
      return { kind: 'deferred', reason: `the previous agent container ${found.name} is being removed` };
    }
    if (isLive(found.state)) return { kind: 'existing', agent: recordOf(found) };
    await this.teardown(request.agentId, await this.containersOf(request.agentId));
    return undefined;
  }

  private slotTaken(slot: SocketSlot): LaunchOutcome {
    return {
      kind: 'deferred',
      reason: `the engine's socket slot is used by agent ${slot.holder || slot.keeper}; GoCD will re-send create-agent`,
    };
  }

  private socketHostPath(): string {
    // A remote engine's socket is assumed at the standard path on its host.
    return this.address.kind === 'unix' ? this.address.socketPath : '/var/run/docker.sock';
  }

  /**
   * Deferred when a live agent (of any cluster, any scaler process) holds the engine's socket slot. A claim whose
   * keeper is gone or dead is recovered on the way (see recoverStaleSlot).
   */
  private async socketSlotBusy(): Promise<LaunchOutcome | undefined> {
    const slot = await readSocketSlot(this.docker);
    if (!slot || (await this.recoverStaleSlot(slot))) return undefined;
    return this.slotTaken(slot);
  }

  /**
   * Claims the engine's socket slot for the agent container `keeper` (created, not started): the engine's unique
   * container name makes exactly one claimant win, whatever the interleaving of processes; the winner reads the
   * claim back before it starts its agent. Answers a deferral when another live agent holds the slot.
   */
  private async claimSocketSlotFor(request: DockerLaunchRequest, keeper: string): Promise<LaunchOutcome | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const claim = await claimSocketSlot(this.docker, {
        keeper,
        holder: request.agentId,
        image: request.profile.image,
      });
      if (claim.kind === 'claimed') {
        const now = await readSocketSlot(this.docker);
        if (now?.keeper === keeper) return undefined;
        return { kind: 'deferred', reason: 'the socket slot changed hands right after it was claimed' };
      }
      // Vanished between our create and our look (its holder released it), or stale: claim again.
      if (!claim.slot || (await this.recoverStaleSlot(claim.slot))) continue;
      return this.slotTaken(claim.slot);
    }
    return { kind: 'deferred', reason: 'the socket slot kept changing hands; GoCD will re-send create-agent' };
  }

  /**
   * A claim is stale when its keeper (the agent container) no longer exists, or has exited or died: its agent's
   * cleanup is then finished here first (its children and containers, which releases the claim), and a claim left
   * behind is removed by id. A keeper that lives (even only created, or being removed) keeps the claim: the
   * engine's next socket agent waits until the previous one is completely gone. Answers true when the slot is free.
   */
  private async recoverStaleSlot(slot: SocketSlot): Promise<boolean> {
    const keeper = slot.keeper ? await this.inspectByName(slot.keeper) : undefined;
    if (keeper && isLive(keeper.state)) return false;
    // Only our own agents are torn down here; a keeper of another kind (an ECS janitor) is its owner's business.
    if (keeper?.labels[LABEL.role] === 'agent' && keeper.labels[LABEL.agentId]) {
      this.options.logger?.warn(
        { agentId: agentIdOf(keeper), container: keeper.name, state: keeper.state },
        'socket slot held by an agent that has ended; finishing its cleanup before the slot is reused',
      );
      await this.teardown(agentIdOf(keeper), await this.containersOf(agentIdOf(keeper)));
    } else {
      this.options.logger?.warn({ holder: slot.holder }, 'socket slot held by a keeper that is gone or has ended');
    }
    await removeSlotClaim(this.docker, slot.id);
    return true;
  }

  private async createSidecarVolumes(request: DockerLaunchRequest, name: string): Promise<void> {
    const names = sidecarNamesFor(name);
    await Promise.all([
      this.docker.createVolume({ Name: names.socketVolume, Labels: labelsFor(request, 'dind-socket') }),
      this.docker.createVolume({ Name: names.workspaceVolume, Labels: labelsFor(request, 'workspace') }),
    ]);
  }

  private async startSidecar(
    request: DockerLaunchRequest,
    name: string,
    dindStart: ImageStart | undefined,
  ): Promise<void> {
    const names = sidecarNamesFor(name);
    const options = dindContainerOptions(request, names, dindStart);
    let dind: Docker.Container;
    try {
      dind = await this.docker.createContainer(options);
    } catch (err) {
      if (statusCode(err) !== 409) throw err;
      // A DinD left by a crashed launch of this very agent (we hold the agent's name): replace it.
      await stopAndRemove(this.docker, names.dind, 0);
      dind = await this.docker.createContainer(options);
    }
    await dind.start();
  }

  /** The image's start command; pulls the image only when the engine does not have it (never implicitly). */
  /** The image's start (entrypoint, command): inspected, pulled first when missing or when `fresh` is asked for. */
  private async ensureImage(image: string, fresh = false): Promise<ImageStart> {
    if (!fresh) {
      try {
        return await this.imageStart(image);
      } catch (err) {
        if (statusCode(err) !== 404) throw err;
      }
    }
    let pull = this.pulls.get(image);
    if (!pull) {
      pull = this.pull(image).finally(() => this.pulls.delete(image));
      this.pulls.set(image, pull);
    }
    await pull;
    return this.imageStart(image);
  }

  private async imageStart(image: string): Promise<ImageStart> {
    const info = await this.docker.getImage(image).inspect();
    return { Entrypoint: info.Config?.Entrypoint as string[] | null, Cmd: info.Config?.Cmd ?? null };
  }

  private async pull(image: string): Promise<void> {
    this.options.logger?.info({ image }, 'pulling image (not present on the engine, or its tag moved)');
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.pull(image);
    } catch (err) {
      if (isUnreachable(err)) throw err;
      throw new LaunchFailedError(`pulling ${image} failed: ${messageOf(err)}`);
    }
    const events = await new Promise<{ error?: string; errorDetail?: { message?: string } }[]>((resolve, reject) =>
      this.docker.modem.followProgress(stream, (err: unknown, output: unknown[]) =>
        err ? reject(new LaunchFailedError(`pulling ${image} failed: ${messageOf(err)}`)) : resolve(output as never),
      ),
    );
    const failure = events.find((e) => e.error || e.errorDetail);
    if (failure)
      throw new LaunchFailedError(`pulling ${image} failed: ${failure.errorDetail?.message ?? failure.error}`);
  }

  /**
   * The container holding `name` after a create answered 409. The engine reserves a name when a create begins and
   * registers the container only when the create ends (moby/moby daemon/names.go `reserveName`, called from
   * `generateIDAndName`), so for a moment the holder answers 404; here, 50 concurrent creates of one name saw 404 in
   * 271 of 294 immediate inspections. Waits (bounded) for it to appear; undefined when it never does (the winning
   * create failed and released the name).
   */
  private async nameHolder(name: string): Promise<Seen | undefined> {
    const deadline = Date.now() + NAME_HOLDER_WAIT_MS;
    for (;;) {
      const holder = await this.inspectByName(name);
      if (holder || Date.now() >= deadline) return holder;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private async inspectByName(name: string): Promise<Seen | undefined> {
    try {
      return fromInspect(await this.docker.getContainer(name).inspect());
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw err;
    }
  }

  /**
   * Every agent of this cluster that is not yet stopped. Agent containers found exited or dead (the agent crashed
   * or was killed from outside) are torn down here, with their socket children and sidecar, and left out: list()
   * runs at every server-ping, so a dead agent's leftovers are removed at the next ping, while the exited agent
   * container still exists to tell its socket children apart. The exit is logged with its code before removal.
   */
  async list(cluster: DockerClusterProfile): Promise<AgentRecord[]> {
    let containers: Docker.ContainerInfo[];
    try {
      containers = await this.docker.listContainers({
        all: true,
        filters: { label: [`${LABEL.clusterId}=${cluster.clusterId}`] },
      });
    } catch (err) {
      throw unavailable(this.address, err);
    }
    const byAgent = new Map<string, Seen[]>();
    for (const c of containers.map(fromListing)) {
      const id = c.labels[LABEL.agentId];
      if (!id) continue;
      byAgent.set(id, [...(byAgent.get(id) ?? []), c]);
    }
    const live: AgentRecord[] = [];
    const dead: [string, Seen[]][] = [];
    for (const [agentId, group] of byAgent) {
      const agent = group.find((c) => c.labels[LABEL.role] === 'agent');
      if (agent && isLive(agent.state)) live.push(recordOf(agent));
      // No agent container left (removed from outside) means its sidecar is an orphan: tear that down too.
      else dead.push([agentId, group]);
    }
    const results = await Promise.allSettled(dead.map(([agentId, group]) => this.reapDead(cluster, agentId, group)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        this.options.logger?.warn({ agentId: dead[i]?.[0], err: r.reason }, 'removing a dead agent failed');
      }
    });
    return live;
  }

  private async reapDead(cluster: DockerClusterProfile, agentId: string, group: Seen[]): Promise<void> {
    const agent = group.find((c) => c.labels[LABEL.role] === 'agent');
    if (agent) {
      const info = await this.docker
        .getContainer(agent.id)
        .inspect()
        .catch(() => undefined);
      this.options.logger?.warn(
        {
          clusterId: cluster.clusterId,
          agentId,
          container: agent.name,
          exitCode: info?.State.ExitCode,
          oomKilled: info?.State.OOMKilled,
          error: info?.State.Error || undefined,
        },
        'agent container ended on its own; removing it and what it started',
      );
    }
    await this.teardown(agentId, group);
  }

  async stop(cluster: DockerClusterProfile, agents: readonly AgentRecord[], reason: string): Promise<StopReport> {
    const report: StopReport = { childrenRemoved: {} };
    await Promise.all(
      agents.map(async (a) => {
        let containers: Seen[];
        try {
          containers = await this.containersOf(a.agentId, cluster.clusterId);
        } catch (err) {
          throw unavailable(this.address, err);
        }
        if (containers.length === 0) return;
        this.options.logger?.info({ clusterId: cluster.clusterId, agentId: a.agentId, reason }, 'stopping agent');
        const children = await this.teardown(a.agentId, containers);
        if (children !== undefined) report.childrenRemoved[a.agentId] = children;
      }),
    );
    return report;
  }

  /** Every container (agent, DinD) labelled with this agent id, in any state. */
  private async containersOf(agentId: string, clusterId?: string): Promise<Seen[]> {
    const label = [`${LABEL.agentId}=${agentId}`];
    if (clusterId) label.push(`${LABEL.clusterId}=${clusterId}`);
    return (await this.docker.listContainers({ all: true, filters: { label } })).map(fromListing);
  }

  /**
   * Removes these containers of one agent and what belongs to them: in socket mode the containers its job started
   * (found before the agent container goes), its sidecar DinD (whose children die with its daemon), and, once
   * nothing of the agent is left, its volumes. Only the containers given are touched, never "whatever carries the
   * agent id now": a new agent for the same job may be starting meanwhile. Resolves to the number of socket children
   * removed, or undefined when the agent was not a socket agent (or its children were not searched).
   */
  private teardown(agentId: string, containers: readonly Seen[], withChildren = true): Promise<number | undefined> {
    let running = this.teardowns.get(agentId);
    if (!running) {
      running = this.doTeardown(agentId, containers, withChildren).finally(() => this.teardowns.delete(agentId));
      this.teardowns.set(agentId, running);
    }
    return running;
  }

  private async doTeardown(
    agentId: string,
    containers: readonly Seen[],
    withChildren: boolean,
  ): Promise<number | undefined> {
    const agent = containers.find((c) => c.labels[LABEL.role] === 'agent');
    const others = containers.filter((c) => c !== agent);
    let childrenRemoved: number | undefined;
    const socket = agent?.labels[LABEL.dockerMode] === 'socket';
    // Only the slot's keeper may count the containers created after it as its job's: an agent that never held the
    // slot (its launch lost the claim, or crashed before it) started nothing. A missing slot (its claim was removed
    // as stale, or by hand) still allows the search: the next claim bounds it (findSocketChildren).
    const slot = socket ? await readSocketSlot(this.docker) : undefined;
    const mayHaveChildren = socket && withChildren && (!slot || slot.keeper === agent?.id);
    const agentWork = !agent
      ? Promise.resolve()
      : mayHaveChildren
        ? removeSocketAgentAndChildren(this.docker, agent.id, this.stopSeconds).then((children) => {
            this.options.logger?.info(
              { agentId, count: children.length, children },
              `removed ${children.length} container(s) the job started through the socket`,
            );
            if (children.length > 0) this.options.onChildrenRemoved?.(children.length);
            childrenRemoved = children.length;
          })
        : stopAndRemove(this.docker, agent.id, this.stopSeconds);
    await Promise.all([agentWork, ...others.map((c) => stopAndRemove(this.docker, c.id, this.stopSeconds))]);
    // Released only now that its children and its container are gone: the next socket agent starts on a clean engine.
    if (socket && agent && slot?.keeper === agent.id) await releaseSocketSlot(this.docker, agent.id);
    if ((await this.containersOf(agentId)).length > 0) return childrenRemoved;
    const volumes = await this.docker.listVolumes({ filters: { label: [`${LABEL.agentId}=${agentId}`] } });
    await Promise.all(
      (volumes.Volumes ?? []).map((v) =>
        this.docker
          .getVolume(v.Name)
          .remove()
          .catch((err: unknown) => {
            // 409: in use by a new agent for the same job; its own teardown removes it later.
            if (statusCode(err) !== 404 && statusCode(err) !== 409) throw err;
          }),
      ),
    );
    return childrenRemoved;
  }

  async inspect(cluster: DockerClusterProfile, agentId: string): Promise<AgentDetails | undefined> {
    let containers: Docker.ContainerInfo[];
    try {
      containers = await this.docker.listContainers({
        all: true,
        filters: { label: [`${LABEL.agentId}=${agentId}`, `${LABEL.clusterId}=${cluster.clusterId}`] },
      });
    } catch (err) {
      throw unavailable(this.address, err);
    }
    const infos = (
      await Promise.all(
        containers.map((c) =>
          this.docker
            .getContainer(c.Id)
            .inspect()
            .catch(() => undefined),
        ),
      )
    ).filter((i): i is Docker.ContainerInspectInfo => i !== undefined);
    const agent = infos.find((i) => i.Config.Labels?.[LABEL.role] === 'agent');
    if (!agent) return undefined;
    const environment: Record<string, string> = {};
    for (const line of agent.Config.Env ?? []) {
      const eq = line.indexOf('=');
      const key = eq < 0 ? line : line.slice(0, eq);
      environment[key] = SECRET_ENV.has(key) ? MASKED : line.slice(eq + 1);
    }
    return {
      agent: recordOf(fromInspect(agent)),
      containers: infos.map((i) => {
        const reason = i.State.OOMKilled ? 'OOM killed' : i.State.Error || undefined;
        return {
          name: i.Name.replace(/^\//, ''),
          image: i.Config.Image,
          status: i.State.Status,
          ...(i.State.Status === 'exited' ? { exitCode: i.State.ExitCode } : {}),
          ...(reason ? { reason } : {}),
        };
      }),
      environment,
      links: [],
    };
  }
}

/**
 * Builds the Docker backend for a cluster profile's engine (`docker_host`, default `$DOCKER_HOST` or the local
 * socket). Loads dockerode on first call only, so nothing Docker reaches a bundle that never calls this.
 */
export async function createDockerBackend(
  cluster: Pick<DockerClusterProfile, 'dockerHost'>,
  logger?: Logger,
  options: Omit<DockerBackendOptions, 'logger'> = {},
): Promise<DockerBackend> {
  let address: EngineAddress;
  try {
    address = engineAddress(cluster.dockerHost);
  } catch (err) {
    throw new BackendUnavailableError(messageOf(err));
  }
  return new DockerBackend(await createDockerClient(address), address, { ...options, logger });
}
