import type {
  ContainerDefinition,
  KeyValuePair,
  RegisterTaskDefinitionCommandInput,
  Volume,
} from '@aws-sdk/client-ecs';
import type { ClusterProfile, ElasticProfile } from '../../agents/profiles.js';
import { profileHash } from '../../agents/profiles.js';

/** Where the sidecar's daemon socket lives, in both containers (a task volume). */
export const DIND_SOCKET_DIR = '/var/run/dind';
export const DIND_DOCKER_HOST = `unix://${DIND_SOCKET_DIR}/docker.sock`;
/**
 * The agent's pipelines folder (official GoCD agent images work under /godata). Mounted at the same path in the
 * agent and the DinD sidecar, so `docker run -v $PWD:/src` inside a job names a path the daemon can see.
 */
export const WORKSPACE_DIR = '/godata/pipelines';
export const HOST_DOCKER_SOCKET = '/var/run/docker.sock';
export const AGENT_CONTAINER = 'agent';

/** Family of a profile's task definition: one per content hash, registered once, found again after a restart. */
export function taskDefinitionFamily(cluster: ClusterProfile, profile: ElasticProfile): string {
  return `gocd-agent-${profileHash(cluster, profile)}`;
}

/** awsvpc when subnets are given (required on Fargate), else bridge. */
export function usesAwsvpc(cluster: ClusterProfile): boolean {
  return (
    cluster.subnets.length > 0 || cluster.launchType === 'FARGATE' || /^FARGATE/.test(cluster.capacityProvider ?? '')
  );
}

function isFargate(cluster: ClusterProfile): boolean {
  return cluster.launchType === 'FARGATE' || /^FARGATE/.test(cluster.capacityProvider ?? '');
}

function env(vars: Record<string, string>): KeyValuePair[] {
  return Object.keys(vars)
    .sort()
    .map((name) => ({ name, value: vars[name] }));
}

/**
 * `privileged` and `sidecar` daemons: full privilege by default, or exactly the profile's capabilities. A nested
 * dockerd also needs seccomp/AppArmor relaxed; ECS applies the instance's defaults, documented in the README.
 */
function daemonPrivileges(profile: ElasticProfile): Pick<ContainerDefinition, 'privileged' | 'linuxParameters'> {
  if (profile.capabilities.length === 0) return { privileged: true };
  return { privileged: false, linuxParameters: { capabilities: { add: profile.capabilities } } };
}

/**
 * The RegisterTaskDefinition input for a profile (pure). Static environment (cluster lines overlaid by profile
 * lines) lives here; per-job GO_EA_* variables go in RunTask overrides, so one definition serves every job.
 */
export function buildTaskDefinition(
  cluster: ClusterProfile,
  profile: ElasticProfile,
): RegisterTaskDefinitionCommandInput {
  if (profile.dockerMode !== 'none' && isFargate(cluster)) {
    throw new Error(`docker_mode ${profile.dockerMode} cannot run on Fargate`);
  }
  const fargate = isFargate(cluster);
  const agent: ContainerDefinition = {
    name: AGENT_CONTAINER,
    image: profile.image,
    essential: true,
    memory: profile.memory,
    ...(fargate ? {} : { cpu: profile.cpu }),
    environment: env({ ...cluster.environment, ...profile.environment }),
  };
  if (profile.command.length) agent.command = profile.command;
  if (profile.repositoryCredentials)
    agent.repositoryCredentials = { credentialsParameter: profile.repositoryCredentials };
  if (cluster.logGroup) {
    agent.logConfiguration = {
      logDriver: 'awslogs',
      options: {
        'awslogs-group': cluster.logGroup,
        'awslogs-stream-prefix': 'gocd-agent',
        ...(cluster.region ? { 'awslogs-region': cluster.region } : {}),
      },
    };
  }
  const containers: ContainerDefinition[] = [agent];
  const volumes: Volume[] = [];

  switch (profile.dockerMode) {
    case 'none':
      break;
    case 'privileged':
      Object.assign(agent, daemonPrivileges(profile));
      break;
    case 'sidecar': {
      volumes.push({ name: 'dind-socket' }, { name: 'workspace' });
      const mounts = [
        { sourceVolume: 'dind-socket', containerPath: DIND_SOCKET_DIR },
        { sourceVolume: 'workspace', containerPath: WORKSPACE_DIR },
      ];
      containers.push({
        name: 'dind',
        image: profile.dindImage,
        essential: true,
        ...daemonPrivileges(profile),
        // docker:dind's entrypoint prepends `dockerd` to flag arguments; an empty DOCKER_TLS_CERTDIR turns TLS off,
        // which is fine because the daemon listens only on a socket inside the task.
        command: [`--host=${DIND_DOCKER_HOST}`],
        environment: [{ name: 'DOCKER_TLS_CERTDIR', value: '' }],
        mountPoints: mounts,
        healthCheck: {
          command: ['CMD-SHELL', `docker -H ${DIND_DOCKER_HOST} info >/dev/null 2>&1`],
          interval: 5,
          timeout: 5,
          retries: 10,
          startPeriod: 10,
        },
      });
      agent.mountPoints = mounts;
      agent.environment = env({ ...cluster.environment, ...profile.environment, DOCKER_HOST: DIND_DOCKER_HOST });
      // The agent starts once the daemon answers, and (reverse order) stops before it.
      agent.dependsOn = [{ containerName: 'dind', condition: 'HEALTHY' }];
      break;
    }
    case 'socket': {
      volumes.push({ name: 'docker-sock', host: { sourcePath: HOST_DOCKER_SOCKET } });
      const mount = [{ sourceVolume: 'docker-sock', containerPath: HOST_DOCKER_SOCKET }];
      agent.mountPoints = mount;
      // The janitor (docker/janitor/) starts first, so ECS stops it after the agent; on SIGTERM it removes the
      // containers the job created through the host socket since the agent container started.
      containers.push({
        name: 'janitor',
        image: cluster.janitorImage,
        essential: false,
        memory: 64,
        mountPoints: mount,
        environment: [{ name: 'JANITOR_AGENT_CONTAINER_NAME', value: AGENT_CONTAINER }],
        stopTimeout: 60,
      });
      agent.dependsOn = [{ containerName: 'janitor', condition: 'START' }];
      break;
    }
  }

  const input: RegisterTaskDefinitionCommandInput = {
    family: taskDefinitionFamily(cluster, profile),
    containerDefinitions: containers,
    networkMode: usesAwsvpc(cluster) ? 'awsvpc' : 'bridge',
    tags: [
      { key: 'gocd-agent-scaler:cluster-id', value: cluster.clusterId },
      { key: 'gocd-agent-scaler:profile-hash', value: profileHash(cluster, profile) },
    ],
  };
  if (volumes.length) input.volumes = volumes;
  if (fargate) {
    input.requiresCompatibilities = ['FARGATE'];
    input.cpu = String(profile.cpu);
    input.memory = String(profile.memory);
  } else {
    input.requiresCompatibilities = [cluster.launchType === 'EXTERNAL' ? 'EXTERNAL' : 'EC2'];
  }
  if (cluster.executionRoleArn) input.executionRoleArn = cluster.executionRoleArn;
  if (profile.taskRoleArn) input.taskRoleArn = profile.taskRoleArn;
  return input;
}
