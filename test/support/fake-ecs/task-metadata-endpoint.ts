import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;

/** What the endpoint answers for one container's endpoint id: its own metadata and its task's. */
export interface MetadataSource {
  container(): Json;
  task(): Json;
}

/**
 * The ECS task metadata endpoint v4 as the ECS container agent serves it to every container of a task
 * (amazon-ecs-agent agent/api/container/container.go: `ECS_CONTAINER_METADATA_URI_V4` =
 * `http://169.254.170.2/v4/<endpoint id>`; `${uri}` answers the container's metadata, `${uri}/task` the task's:
 * ecs-agent/tmds/handlers/v4/state/response.go, ecs-agent/tmds/handlers/v2/response.go). Here it listens on an
 * address the containers can reach (the shared engine's bridge gateway) instead of the link-local 169.254.170.2.
 */
export class TaskMetadataEndpoint {
  private readonly sources = new Map<string, MetadataSource>();
  private server: Server | undefined;
  /** `http://<host>:<port>`, set by start(). */
  base = '';

  async start(host: string): Promise<this> {
    this.server = createServer((req, res) => {
      const m = /^\/v4\/([^/]+)(\/task)?\/?$/.exec(req.url ?? '');
      const source = m ? this.sources.get(m[1]!) : undefined;
      if (req.method !== 'GET' || !m || !source) {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: 'not found' }));
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(m[2] ? source.task() : source.container()));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, host, resolve));
    this.base = `http://${host}:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The `ECS_CONTAINER_METADATA_URI_V4` value for an endpoint id, which then answers from `source`. */
  register(endpointId: string, source: MetadataSource): string {
    this.sources.set(endpointId, source);
    return `${this.base}/v4/${endpointId}`;
  }

  forget(endpointId: string): void {
    this.sources.delete(endpointId);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
