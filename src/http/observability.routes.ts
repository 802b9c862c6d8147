import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { AgentService } from '../agents/agent-service.js';
import type { PropertyMap } from '../gocd/messages.js';
import { requireBearer } from './auth.js';
import { renderApiDocs } from './docs.view.js';
import { type OpenApiSpec, routeSchema } from './openapi.js';

export interface OperationsOptions {
  spec: OpenApiSpec;
  agents: AgentService;
  registry: Registry;
  statusToken: string;
  /** `GET /metrics` needs `Authorization: Bearer <token>` when set (config `metrics.token`). */
  metricsToken?: string;
  /** The plugin status report handler, so /status shows exactly what GoCD shows. */
  pluginStatusReport: (body: { all_cluster_profiles_properties: PropertyMap[] }) => Promise<{ view: string }>;
}

/** `GET /metrics` (Prometheus), `GET /docs` (API reference), `GET /status` (bearer; the cluster view as a page). */
export function registerObservabilityRoutes(app: FastifyInstance, options: OperationsOptions): void {
  const docs = renderApiDocs(options.spec);
  const pluginReport = options.pluginStatusReport;
  app.get(
    '/metrics',
    {
      schema: routeSchema(options.spec, 'get', '/metrics'),
      ...(options.metricsToken ? { onRequest: requireBearer([options.metricsToken]) } : {}),
    },
    async (_request, reply) => reply.type(options.registry.contentType).send(await options.registry.metrics()),
  );
  app.get('/docs', { schema: routeSchema(options.spec, 'get', '/docs') }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(docs),
  );
  app.get(
    '/status',
    { schema: routeSchema(options.spec, 'get', '/status'), onRequest: requireBearer([options.statusToken]) },
    async (_request, reply) => {
      const clusters = options.agents.knownClusterProperties();
      const { view } = await pluginReport({ all_cluster_profiles_properties: clusters as PropertyMap[] });
      const note =
        clusters.length === 0
          ? '<p>No server-ping from GoCD yet: cluster profiles are learnt from it (about once a minute).</p>'
          : '';
      return reply
        .type('text/html; charset=utf-8')
        .send(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>gocd-agent-scaler status</title></head><body>${note}${view}</body></html>`,
        );
    },
  );
}
