import type { AgentBackend } from '../agents/agent-backend.port.js';
import type { ClusterProfile } from '../agents/profiles.js';
import { asDockerCluster } from '../backends/docker/docker-profiles.js';
import type { Logger } from '../logger.js';

/**
 * Builds the Docker backend for a cluster profile's engine (`docker_host`, default `$DOCKER_HOST` or the local
 * socket). The docker/ modules (and so dockerode) are imported here on first call only: `src/main/composition.ts` reaches
 * this file through a dynamic import, so a bundle that never enables Docker (Lambda) contains none of it.
 */
export async function createDockerBackendFor(
  cluster: ClusterProfile,
  logger: Logger,
  onChildrenRemoved?: (count: number) => void,
): Promise<AgentBackend> {
  const docker = asDockerCluster(cluster);
  const { createDockerBackend } = await import('../backends/docker/docker-backend.js');
  return createDockerBackend(
    docker,
    logger.child({ backend: 'docker', dockerHost: docker.dockerHost ?? 'local' }),
    onChildrenRemoved ? { onChildrenRemoved } : {},
  );
}

/** Whether the local Docker engine answers: `available` or `unavailable: <reason>`. */
export async function localDockerStatus(): Promise<string> {
  const { dockerEngineStatus } = await import('../backends/docker/docker-client.js');
  return dockerEngineStatus();
}
