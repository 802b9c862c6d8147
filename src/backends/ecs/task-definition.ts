import { createHash } from 'node:crypto';
import type {
  ContainerDefinition,
  KeyValuePair,
  MountPoint,
  RegisterTaskDefinitionCommandInput,
  Volume,
} from '@aws-sdk/client-ecs';
import { stableJson } from '../../agents/profiles.js';
import { CGROUP_RW_REMOUNT } from '../docker/container-spec.js';
import { runsOnFargate } from './ecs-profile-rules.js';
import type { EcsClusterProfile, EcsElasticProfile } from './ecs-profiles.js';

/** The job's container in every task definition; RunTask overrides target it by this name. */
export const AGENT_CONTAINER = 'agent';
/** Sidecar mode: the DinD daemon's container. */
export const DIND_CONTAINER = 'dind';
/** Socket mode: the container that removes the job's socket-started containers when the task stops. */
export const JANITOR_CONTAINER = 'janitor';
/** Sidecar mode: where the daemon's socket lives, in both containers (a task volume). */
export const DIND_SOCKET_DIR = '/var/run/dind';
/** Sidecar mode: the agent's DOCKER_HOST. */
export const DIND_DOCKER_HOST = `unix://${DIND_SOCKET_DIR}/docker.sock`;
/**
 * Sidecar mode: the workspace shared by the agent and the daemon, at the same path in both, so that
 * `docker run -v $PWD:/src …` inside a job names a path the daemon sees with the job's files. GoCD's agent images
 * work in /go, whose config/logs/pipelines are symlinks into /godata; a job's physical $PWD is therefore
 * /godata/pipelines/<pipeline>. The same path the Docker backend uses.
 */
export const WORKSPACE_DIR = '/godata';
/** Socket mode: the host engine's socket, mounted into the janitor at the Docker CLI's default path. */
export const HOST_DOCKER_SOCKET = '/var/run/docker.sock';
/**
 * Socket mode: where the janitor serves the engine's API to the agent (a task scratch volume only these two
 * containers mount). The host socket is root:docker 0660 and ECS cannot add the host's (unknown) docker gid to a
 * container, so a non-root agent reaches the engine through this socket, which any user of the task may open.
 */
export const SOCKET_PROXY_DIR = '/var/run/gocd-agent-scaler';
/** Socket mode: the agent's DOCKER_HOST. */
export const SOCKET_PROXY_HOST = `unix://${SOCKET_PROXY_DIR}/docker.sock`;
/** Tag keys on the task definition. */
export const TD_TAG = {
  clusterId: 'gocd-agent-scaler:cluster-id',
  profileHash: 'gocd-agent-scaler:profile-hash',
  definitionHash: 'gocd-agent-scaler:definition-hash',
} as const;

/** ECS quotas a definition must stay inside (ecs-facts §1.6). */
const MAX_CONTAINERS = 10;
const MAX_DEFINITION_BYTES = 64 * 1024;

/** Content hash of what a task definition is built from (family `gocd-agent-<hash>`). */
export function profileHash(cluster: EcsClusterProfile, profile: EcsElasticProfile): string {
  const relevant = {
    profile,
    executionRoleArn: cluster.executionRoleArn,
    logGroup: cluster.logGroup,
    region: cluster.region,
    launchType: cluster.launchType,
    // A FARGATE(_SPOT) capacity provider changes compatibilities and networking; the janitor image is in socket
    // definitions. Without them, two profiles differing only there would share a family and re-register in turn.
    capacityProvider: cluster.capacityProvider,
    janitorImage: profile.dockerMode === 'socket' ? cluster.janitorImage : undefined,
    awsvpc: cluster.subnets.length > 0 || cluster.launchType === 'FARGATE',
    clusterEnv: cluster.environment,
  };
  return createHash('sha256').update(stableJson(relevant)).digest('hex').slice(0, 16);
}

/** Family of a profile's task definition: one per content hash, registered once, found again after a restart. */
export function taskDefinitionFamily(cluster: EcsClusterProfile, profile: EcsElasticProfile): string {
  return `gocd-agent-${profileHash(cluster, profile)}`;
}

/** A Fargate launch: launch type FARGATE, or a FARGATE / FARGATE_SPOT capacity provider. */
export const isFargate = runsOnFargate;

/** awsvpc when subnets are given or on Fargate (where it is required), else bridge. */
export function usesAwsvpc(cluster: EcsClusterProfile): boolean {
  return cluster.subnets.length > 0 || isFargate(cluster);
}

function env(vars: Record<string, string>): KeyValuePair[] {
  return Object.keys(vars)
    .sort()
    .map((name) => ({ name, value: vars[name] }));
}

/**
 * `privileged` and `sidecar` daemons: full privilege, or (when the profile names capabilities) exactly those, the
 * form an operator picks where `privileged` is refused. A nested dockerd without privilege also needs writable
 * cgroups and a permissive seccomp/AppArmor setup on the instance, which ECS cannot set per container.
 */
function daemonPrivileges(profile: EcsElasticProfile): Pick<ContainerDefinition, 'privileged' | 'linuxParameters'> {
  if (profile.capabilities.length === 0) return { privileged: true };
  return { privileged: false, linuxParameters: { capabilities: { add: [...profile.capabilities] } } };
}

/**
 * The sidecar daemon's entry point in the capability form: a container without --privileged gets its cgroup mounts
 * read-only, so its nested dockerd could not create its containers' cgroups. With CAP_SYS_ADMIN it can remount them
 * read-write first (the Docker backend's prelude, CGROUP_RW_REMOUNT), then run the image's usual start: docker:dind's
 * `dockerd-entrypoint.sh` where the image has it (ECS cannot inspect an image for its entrypoint), else the command.
 */
function daemonEntryPoint(profile: EcsElasticProfile): Pick<ContainerDefinition, 'entryPoint'> {
  if (profile.capabilities.length === 0) return {};
  const start =
    'if command -v dockerd-entrypoint.sh >/dev/null 2>&1; then exec dockerd-entrypoint.sh "$@"; fi\nexec "$@"';
  return { entryPoint: ['/bin/sh', '-c', `${CGROUP_RW_REMOUNT}\n${start}`, 'gocd-ea-dind'] };
}

/** Options that are not part of the profiles but shape the definition. */
export interface TaskDefinitionOptions {
  /**
   * Region for `awslogs-region` (required by the awslogs driver) when the cluster profile names none: the region the
   * ECS client resolved from the standard configuration chain.
   */
  region?: string;
}

/**
 * The RegisterTaskDefinition input for a profile (pure). Static environment (cluster lines overlaid by profile
 * lines) lives here; the per-job GO_EA_* variables go in RunTask overrides, so one definition serves every job.
 * The profile's cpu/memory are the task's: its containers share them (a job's sidecar daemon runs the job's
 * containers, so neither container gets a smaller hard limit of its own).
 */
export function buildTaskDefinition(
  cluster: EcsClusterProfile,
  profile: EcsElasticProfile,
  options: TaskDefinitionOptions = {},
): RegisterTaskDefinitionCommandInput {
  const fargate = isFargate(cluster);
  // AgentService refuses Docker modes on Fargate (launchRefusal); this guards every other caller.
  if (profile.dockerMode !== 'none' && fargate) {
    throw new Error(
      `docker_mode ${profile.dockerMode} cannot run on Fargate (no privileged containers, no host paths)`,
    );
  }
  const staticEnv = { ...cluster.environment, ...profile.environment };
  const agent: ContainerDefinition = { name: AGENT_CONTAINER, image: profile.image, essential: true };
  if (profile.command.length) agent.command = [...profile.command];
  if (profile.repositoryCredentials) {
    agent.repositoryCredentials = { credentialsParameter: profile.repositoryCredentials };
  }
  const region = cluster.region ?? options.region;
  if (cluster.logGroup) {
    if (!region) throw new Error('log_group needs a region (cluster profile region or the AWS configuration)');
    agent.logConfiguration = {
      logDriver: 'awslogs',
      options: {
        'awslogs-group': cluster.logGroup,
        'awslogs-region': region,
        'awslogs-stream-prefix': 'gocd-agent',
      },
    };
  }
  const containers: ContainerDefinition[] = [agent];
  const volumes: Volume[] = [];

  switch (profile.dockerMode) {
    case 'none':
      break;
    case 'privileged':
      // The agent image runs its own dockerd.
      Object.assign(agent, daemonPrivileges(profile));
      break;
    case 'sidecar': {
      // The socket directory is a task-scoped scratch volume. The workspace is a task-scoped Docker volume: Docker
      // copies the agent image's /godata (with its owner) into it on first mount, so a non-root agent user can still
      // write there; ECS removes both volumes with the task.
      volumes.push(
        { name: 'dind-socket', host: {} },
        { name: 'workspace', dockerVolumeConfiguration: { scope: 'task', driver: 'local' } },
      );
      const mounts: MountPoint[] = [
        { sourceVolume: 'dind-socket', containerPath: DIND_SOCKET_DIR },
        { sourceVolume: 'workspace', containerPath: WORKSPACE_DIR },
      ];
      containers.push({
        name: DIND_CONTAINER,
        image: profile.dindImage,
        essential: true,
        ...daemonPrivileges(profile),
        ...daemonEntryPoint(profile),
        // `dockerd` first: docker:dind's entrypoint then adds no default listeners (it would add an unauthenticated
        // tcp://0.0.0.0:2375 for flag-only arguments) but still runs the `dind` wrapper. The socket's group is 0:
        // GoCD agent images run as `go`, whose primary group is root. An empty DOCKER_TLS_CERTDIR skips TLS
        // certificates, which a socket reachable only inside the task does not need.
        command: ['dockerd', `--host=${DIND_DOCKER_HOST}`, '--group=0'],
        environment: [{ name: 'DOCKER_TLS_CERTDIR', value: '' }],
        mountPoints: mounts,
        healthCheck: {
          command: ['CMD-SHELL', `docker -H ${DIND_DOCKER_HOST} info >/dev/null`],
          interval: 5,
          timeout: 5,
          retries: 10,
          startPeriod: 10,
        },
      });
      agent.mountPoints = mounts;
      staticEnv.DOCKER_HOST = DIND_DOCKER_HOST;
      // The agent starts once the daemon answers; ECS stops in reverse dependency order, so the agent stops first.
      agent.dependsOn = [{ containerName: DIND_CONTAINER, condition: 'HEALTHY' }];
      break;
    }
    case 'socket': {
      // The host socket goes to the janitor only; the agent reaches the engine through the janitor's proxy socket.
      volumes.push(
        { name: 'docker-sock', host: { sourcePath: HOST_DOCKER_SOCKET } },
        { name: 'docker-proxy', host: {} },
      );
      const proxy: MountPoint = { sourceVolume: 'docker-proxy', containerPath: SOCKET_PROXY_DIR };
      agent.mountPoints = [proxy];
      staticEnv.DOCKER_HOST = SOCKET_PROXY_HOST;
      // Janitor contract (image built from docker/janitor/): it claims the host's one socket slot (a uniquely named
      // container, waiting while a previous socket agent still stops there), serves the engine's API on the proxy
      // socket, and on SIGTERM removes every container created through the host engine after this task's agent
      // container and before any later claim, except com.amazonaws.ecs.*- and gocd-agent-scaler.*-labelled ones,
      // then releases the slot. It finds its own container and task through ECS_CONTAINER_METADATA_URI_V4 (set by
      // ECS) and the agent by the labels com.amazonaws.ecs.task-arn + com.amazonaws.ecs.container-name. The agent
      // starts once the janitor is healthy (it holds the slot): ECS stops containers in reverse dependency order, so
      // the janitor is stopped after the agent, and stopTimeout leaves it time to clean up. The health check's start
      // period covers a previous socket task still stopping on this host (its agent's stop timeout plus its
      // janitor's). The janitor is not essential (its exit must not stop the job) and has no hard memory limit of
      // its own, as it stops the children in parallel (one docker CLI each).
      containers.push({
        name: JANITOR_CONTAINER,
        image: cluster.janitorImage,
        essential: false,
        memoryReservation: 32,
        mountPoints: [{ sourceVolume: 'docker-sock', containerPath: HOST_DOCKER_SOCKET }, proxy],
        environment: [
          { name: 'JANITOR_AGENT_CONTAINER_NAME', value: AGENT_CONTAINER },
          { name: 'JANITOR_PROXY_SOCKET', value: `${SOCKET_PROXY_DIR}/docker.sock` },
        ],
        healthCheck: {
          command: ['CMD', '/usr/local/bin/gocd-janitor', 'health'],
          interval: 5,
          timeout: 5,
          retries: 10,
          startPeriod: 300,
        },
        stopTimeout: 60,
      });
      agent.dependsOn = [{ containerName: JANITOR_CONTAINER, condition: 'HEALTHY' }];
      break;
    }
  }
  agent.environment = env(staticEnv);

  const input: RegisterTaskDefinitionCommandInput = {
    family: taskDefinitionFamily(cluster, profile),
    containerDefinitions: containers,
    networkMode: usesAwsvpc(cluster) ? 'awsvpc' : 'bridge',
    requiresCompatibilities: [fargate ? 'FARGATE' : cluster.launchType === 'EXTERNAL' ? 'EXTERNAL' : 'EC2'],
    cpu: String(profile.cpu),
    memory: String(profile.memory),
  };
  if (volumes.length) input.volumes = volumes;
  if (cluster.executionRoleArn) input.executionRoleArn = cluster.executionRoleArn;
  if (profile.taskRoleArn) input.taskRoleArn = profile.taskRoleArn;
  input.tags = [
    { key: TD_TAG.clusterId, value: cluster.clusterId },
    { key: TD_TAG.profileHash, value: profileHash(cluster, profile) },
    { key: TD_TAG.definitionHash, value: definitionHash(input) },
  ];
  assertWithinLimits(input);
  return input;
}

/**
 * Hash of what a definition registers (everything but its tags). The family names the profile; this tag tells
 * whether a revision found after a restart is what this version of the service would register (a changed janitor
 * image or a new release changes it), so only then is a new revision registered.
 */
export function definitionHash(input: RegisterTaskDefinitionCommandInput): string {
  const { tags: _tags, ...content } = input;
  return createHash('sha256').update(stableJson(content)).digest('hex').slice(0, 16);
}

/** Guards ECS's per-definition quotas (10 containers, 64 KiB); ours use at most 2 containers and a few KiB. */
function assertWithinLimits(input: RegisterTaskDefinitionCommandInput): void {
  const containers = input.containerDefinitions?.length ?? 0;
  if (containers > MAX_CONTAINERS) {
    throw new Error(`task definition has ${containers} containers; ECS allows ${MAX_CONTAINERS}`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(input));
  if (bytes > MAX_DEFINITION_BYTES) {
    throw new Error(`task definition is ${bytes} bytes (environment too large?); ECS allows ${MAX_DEFINITION_BYTES}`);
  }
}
