import type { ClusterProfile } from '../agents/profiles.js';
import { BackendUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AgentBackend } from './port.js';

/** Builds the ECS backend for a cluster profile (wired to src/backends/ecs/ once it lands). */
export async function createEcsBackendFor(_cluster: ClusterProfile, _logger: Logger): Promise<AgentBackend> {
  throw new BackendUnavailableError('ECS backend not wired yet');
}
