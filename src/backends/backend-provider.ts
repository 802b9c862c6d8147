import type { AgentBackend, BackendProvider } from '../agents/agent-backend.port.js';
import type { ClusterProfile } from '../agents/profiles.js';
import { BackendUnavailableError } from '../errors.js';

/** Builds a backend for a cluster profile; called once per distinct client key. */
export type BackendFactory = (cluster: ClusterProfile) => Promise<AgentBackend>;

/**
 * Chooses the backend of each cluster profile (by its `backend`) and builds each once per client key: one ECS client
 * per (region, role), one Docker client per engine address (`ProfileCatalog.clientKey`).
 */
export class CachingBackendProvider implements BackendProvider {
  private readonly cache = new Map<string, Promise<AgentBackend>>();

  constructor(
    private readonly factories: Readonly<Record<string, BackendFactory | undefined>>,
    private readonly clientKey: (cluster: ClusterProfile) => string,
  ) {}

  forCluster(cluster: ClusterProfile): Promise<AgentBackend> {
    const key = this.clientKey(cluster);
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
