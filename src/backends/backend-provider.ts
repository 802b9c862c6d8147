import type { AgentBackend, BackendProvider } from '../agents/agent-backend.port.js';
import type { ClusterProfile } from '../agents/profiles.js';
import { BackendUnavailableError } from '../errors.js';

/** Builds a backend for a cluster profile; called once per distinct client key. */
export type BackendFactory = (cluster: ClusterProfile) => Promise<AgentBackend>;

/** The client a cluster needs: one ECS client per (region, role), one Docker client per engine address. */
export function backendKey(cluster: ClusterProfile): string {
  return cluster.backend === 'ecs'
    ? `ecs|${cluster.region ?? ''}|${cluster.assumeRoleArn ?? ''}`
    : `docker|${cluster.dockerHost ?? ''}`;
}

/** Chooses ECS or Docker per cluster profile and builds each backend once. */
export class CachingBackendProvider implements BackendProvider {
  private readonly cache = new Map<string, Promise<AgentBackend>>();

  constructor(private readonly factories: Partial<Record<ClusterProfile['backend'], BackendFactory>>) {}

  forCluster(cluster: ClusterProfile): Promise<AgentBackend> {
    const key = backendKey(cluster);
    let backend = this.cache.get(key);
    if (!backend) {
      const factory = this.factories[cluster.backend];
      if (!factory)
        return Promise.reject(
          new BackendUnavailableError(`the ${cluster.backend} backend is not available in this deployment`),
        );
      backend = factory(cluster);
      // A failed construction is not cached: the next request tries again (e.g. dockerd started later).
      backend.catch(() => this.cache.delete(key));
      this.cache.set(key, backend);
    }
    return backend;
  }
}
