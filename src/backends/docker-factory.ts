import type { ClusterProfile } from '../agents/profiles.js';
import { BackendUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AgentBackend } from './port.js';

/** Builds the Docker backend for a cluster profile (wired to src/backends/docker/ once it lands). */
export async function createDockerBackendFor(_cluster: ClusterProfile, _logger: Logger): Promise<AgentBackend> {
  throw new BackendUnavailableError('Docker backend not wired yet');
}

/** Whether the local Docker engine answers: `available` or `unavailable: <reason>`. */
export async function localDockerStatus(): Promise<string> {
  return 'unavailable: not wired yet';
}
