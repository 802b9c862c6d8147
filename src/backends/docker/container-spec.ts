import type Docker from 'dockerode';
import { agentIdFor } from '../../agents/agent-id.js';
import { jobPath } from '../../agents/job.js';
import type { DockerLaunchRequest } from './docker-profiles.js';

/** Container labels: the same identity facts the ECS backend keeps in task tags (DESIGN.md "Agents"). */
export const LABEL = {
  agentId: 'gocd-agent-scaler.agent-id',
  jobId: 'gocd-agent-scaler.job-id',
  /** A warm-pool agent (instead of job-id and pipeline): the hash of the profile it waits for. */
  pool: 'gocd-agent-scaler.warm-pool',
  clusterId: 'gocd-agent-scaler.cluster-id',
  pipeline: 'gocd-agent-scaler.pipeline',
  dockerMode: 'gocd-agent-scaler.docker-mode',
  role: 'gocd-agent-scaler.role',
} as const;

/** Every label this service sets starts with this; such containers are never a socket job's children. */
export const SCALER_LABEL_PREFIX = 'gocd-agent-scaler.';
/** The ECS agent labels the containers it manages with keys under this prefix. */
export const ECS_LABEL_PREFIX = 'com.amazonaws.ecs.';

/** What a labelled container (or volume) is for. */
export type ContainerRole = 'agent' | 'dind' | 'workspace' | 'dind-socket';

/** Where the sidecar's daemon socket lives, in both the DinD and the agent container. */
export const DIND_SOCKET_DIR = '/var/run/dind';
/** The agent's `DOCKER_HOST` in sidecar mode. */
export const DIND_DOCKER_HOST = `unix://${DIND_SOCKET_DIR}/docker.sock`;
/**
 * Group of the sidecar daemon's socket (`dockerd --group`), added to the agent container: the socket lives in a
 * volume only these two containers mount, so a fixed private gid is enough for a non-root agent user.
 */
export const DIND_SOCKET_GID = 2375;
/**
 * The shared workspace in sidecar mode, mounted at the same path in the agent and the DinD container, so that
 * `docker run -v $PWD:/src …` inside a job resolves `$PWD` to the job's files on the daemon's side too. GoCD agent
 * images keep their pipelines under /godata; a named volume copies the image's /godata (and its owner) on first use.
 */
export const SIDECAR_WORKSPACE = '/godata';
/** Where socket-mode agents find the engine's socket (the Docker CLI's default). */
export const AGENT_SOCKET_PATH = '/var/run/docker.sock';

/**
 * Prelude run before an image's own entrypoint when a Docker daemon gets a capability list instead of full
 * privilege. Docker mounts /sys/fs/cgroup read-only into unprivileged containers, so a nested dockerd starts but
 * cannot create cgroups for its own containers; CAP_SYS_ADMIN (with AppArmor unconfined) allows remounting the
 * container's own cgroup mounts read-write, which is what `--privileged` would have given. Needs `sh` and `mount`.
 */
export const CGROUP_RW_REMOUNT = [
  'while read -r _ _ _ _ mp opts _; do',
  '  case "$mp" in /sys/fs/cgroup|/sys/fs/cgroup/*) ;; *) continue ;; esac',
  '  case ",$opts," in *,ro,*) ;; *) continue ;; esac',
  '  mount -o remount,rw,bind "$mp" "$mp" 2>/dev/null || mount -o remount,rw "$mp" 2>/dev/null ||',
  '    echo "gocd-agent-scaler: could not make $mp writable; nested containers may fail" >&2',
  'done < /proc/self/mountinfo',
].join('\n');
/** CGROUP_RW_REMOUNT, then the wrapped command (`sh -c PRELUDE <name> <command…>`). */
export const CGROUP_RW_PRELUDE = `${CGROUP_RW_REMOUNT}\nexec "$@"`;

/** An image's own start command (from `docker image inspect`), needed to wrap it in the cgroup prelude. */
export interface ImageStart {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
}

/**
 * The agent container's name: `gocd-<cluster id>-<agent id>`, the elastic agent id GoCD shows on its Agents page
 * (`ea-<job id>-<8 hex>`), so `docker ps --filter name=<agent id>` finds an agent's container. One name per
 * (cluster id, job id), since the agent id is derived from both: a repeated or concurrent create-agent for a job
 * collides on the name (HTTP 409) instead of starting a second agent. Docker names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]`.
 */
export function containerNameFor(clusterId: string, jobId: number): string {
  return agentContainerName(clusterId, agentIdFor(clusterId, jobId));
}

function agentContainerName(clusterId: string, agentId: string): string {
  return `gocd-${clusterId.replace(/[^a-zA-Z0-9_.-]/g, '_')}-${agentId}`;
}

/**
 * The container name of a launch: its job's, or for a warm-pool agent (no job yet) the same form with its own agent
 * id (`gocd-<cluster id>-ea-pool-<hash>-…`): one container per pool agent, found by `docker ps --filter name=<id>`.
 */
export function containerNameOf(request: {
  agentId: string;
  cluster: { clusterId: string };
  job?: { job_id: number };
}): string {
  if (request.job) return containerNameFor(request.cluster.clusterId, request.job.job_id);
  return agentContainerName(request.cluster.clusterId, request.agentId);
}

/** Names of a sidecar agent's DinD container and its two volumes, derived from the agent container's name. */
export interface SidecarNames {
  dind: string;
  socketVolume: string;
  workspaceVolume: string;
}

/** The sidecar names for an agent container name. */
export function sidecarNamesFor(agentName: string): SidecarNames {
  return {
    dind: `${agentName}-dind`,
    socketVolume: `${agentName}-dind-sock`,
    workspaceVolume: `${agentName}-workspace`,
  };
}

/** Labels for one of the agent's containers or volumes. */
export function labelsFor(request: DockerLaunchRequest, role: ContainerRole): Record<string, string> {
  return {
    [LABEL.agentId]: request.agentId,
    ...(request.job
      ? { [LABEL.jobId]: String(request.job.job_id), [LABEL.pipeline]: jobPath(request.job) }
      : { [LABEL.pool]: request.pool?.profileHash ?? '' }),
    [LABEL.clusterId]: request.cluster.clusterId,
    [LABEL.dockerMode]: request.profile.dockerMode,
    [LABEL.role]: role,
  };
}

/**
 * The agent's environment: the cluster's lines, overlaid by the profile's (profile wins), then the job's GO_EA_*
 * variables (never overridable: a profile must not break registration), plus DOCKER_HOST in sidecar mode.
 */
export function agentEnvironment(request: DockerLaunchRequest): Record<string, string> {
  const env = { ...request.cluster.environment, ...request.profile.environment, ...request.jobEnv };
  if (request.profile.dockerMode === 'sidecar') env.DOCKER_HOST = DIND_DOCKER_HOST;
  return env;
}

/**
 * How a container that runs a Docker daemon is allowed to: full `--privileged` when the profile names no
 * capabilities, else exactly those capabilities with seccomp and AppArmor unconfined. Both must be unconfined for a
 * nested dockerd: Docker's default seccomp profile blocks the mount/unshare/pivot_root/keyctl calls runc makes to
 * build a container, and the docker-default AppArmor profile denies mount and writes under /proc and /sys.
 */
export function daemonPrivilege(capabilities: readonly string[]): Docker.HostConfig {
  if (capabilities.length === 0) return { Privileged: true };
  return {
    Privileged: false,
    CapAdd: capabilities.map((c) => c.replace(/^CAP_/, '')),
    SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
  };
}

/** Entrypoint and Cmd that run `start` (the image's own, or `command`) behind the cgroup prelude. */
export function withCgroupPrelude(
  start: ImageStart,
  command: readonly string[],
  name: string,
): { Entrypoint: string[]; Cmd: string[] } {
  return {
    Entrypoint: ['/bin/sh', '-c', CGROUP_RW_PRELUDE, name, ...(start.Entrypoint ?? [])],
    Cmd: command.length > 0 ? [...command] : [...(start.Cmd ?? [])],
  };
}

function toEnvList(env: Record<string, string>): string[] {
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

/** Facts the agent container spec needs beyond the launch request. */
export interface AgentSpecContext {
  name: string;
  /** The agent image's start command; used for privileged mode with a capability list. */
  imageStart?: ImageStart;
  /** Socket mode: the engine's socket on the host, and its group id when known. */
  socket?: { hostPath: string; gid?: number };
}

/**
 * dockerode create options for a job's agent container. No auto-remove: socket-mode attribution needs the agent
 * container to exist until its children are removed, and the service removes every agent container itself.
 */
export function agentContainerOptions(
  request: DockerLaunchRequest,
  ctx: AgentSpecContext,
): Docker.ContainerCreateOptions {
  const { profile, cluster } = request;
  const mode = profile.dockerMode;
  const host: Docker.HostConfig = {
    NanoCpus: Math.round((profile.cpu / 1024) * 1e9),
    Memory: profile.memory * 1024 * 1024,
  };
  if (cluster.network) host.NetworkMode = cluster.network;
  const options: Docker.ContainerCreateOptions = {
    name: ctx.name,
    Image: profile.image,
    Env: toEnvList(agentEnvironment(request)),
    Labels: labelsFor(request, 'agent'),
    HostConfig: host,
  };
  if (profile.command.length > 0) options.Cmd = [...profile.command];
  if (mode === 'privileged') {
    Object.assign(host, daemonPrivilege(profile.capabilities));
    if (profile.capabilities.length > 0) {
      Object.assign(options, withCgroupPrelude(ctx.imageStart ?? {}, profile.command, 'gocd-ea-agent'));
    }
  } else if (mode === 'sidecar') {
    const names = sidecarNamesFor(ctx.name);
    host.Mounts = sidecarMounts(names);
    host.GroupAdd = [String(DIND_SOCKET_GID)];
  } else if (mode === 'socket') {
    if (!ctx.socket) throw new Error('socket mode needs the engine socket path');
    host.Mounts = [{ Type: 'bind', Source: ctx.socket.hostPath, Target: AGENT_SOCKET_PATH }];
    if (ctx.socket.gid !== undefined) host.GroupAdd = [String(ctx.socket.gid)];
  }
  return options;
}

function sidecarMounts(names: SidecarNames): Docker.MountSettings[] {
  return [
    { Type: 'volume', Source: names.socketVolume, Target: DIND_SOCKET_DIR },
    { Type: 'volume', Source: names.workspaceVolume, Target: SIDECAR_WORKSPACE },
  ];
}

/**
 * dockerode create options for a sidecar's DinD container: its daemon listens only on a unix socket in the shared
 * volume (no TCP, so no TLS and nothing reachable from the network), owned by DIND_SOCKET_GID.
 */
export function dindContainerOptions(
  request: DockerLaunchRequest,
  names: SidecarNames,
  imageStart: ImageStart | undefined,
): Docker.ContainerCreateOptions {
  const { profile, cluster } = request;
  const command = ['dockerd', `--host=${DIND_DOCKER_HOST}`, `--group=${DIND_SOCKET_GID}`];
  const host: Docker.HostConfig = { ...daemonPrivilege(profile.capabilities), Mounts: sidecarMounts(names) };
  if (cluster.network) host.NetworkMode = cluster.network;
  const options: Docker.ContainerCreateOptions = {
    name: names.dind,
    Image: profile.dindImage,
    // docker:dind generates TLS certificates and a TCP listener unless this is empty; the unix socket needs neither.
    Env: ['DOCKER_TLS_CERTDIR='],
    Labels: labelsFor(request, 'dind'),
    Cmd: command,
    HostConfig: host,
  };
  if (profile.capabilities.length > 0)
    Object.assign(options, withCgroupPrelude(imageStart ?? {}, command, 'gocd-ea-dind'));
  return options;
}
