import type { AgentBackend } from '../agents/agent-backend.port.js';
import type { ClusterProfile } from '../agents/profiles.js';
import { EcsBackend, type EcsBackendOptions } from '../backends/ecs/ecs-backend.js';
import { createEcsClient, type EcsCallObserver } from '../backends/ecs/ecs-clients.js';
import { asEcsCluster } from '../backends/ecs/ecs-profiles.js';
import type { Logger } from '../logger.js';

/** Builds the ECS backend for a cluster profile's (region, role); the provider caches one per key. */
export async function createEcsBackendFor(
  cluster: ClusterProfile,
  logger: Logger,
  observer?: EcsCallObserver,
  options: Omit<EcsBackendOptions, 'logger'> = {},
): Promise<AgentBackend> {
  const ecs = asEcsCluster(cluster);
  return new EcsBackend(createEcsClient(ecs, { observer }), {
    ...options,
    logger: logger.child({ backend: 'ecs', region: ecs.region }),
  });
}
