import type { FastifyPluginCallback } from 'fastify';
import type { Registry } from 'prom-client';
import type { AgentService } from '../agents/agent-service.js';
import type { StatusReports } from '../gocd/status-reports.js';
import { requireBearer, requireStatusReader, type StatusReaders } from './auth.js';
import { routeSchema } from './route-schemas.js';

export interface ObservabilityRoutesOptions {
  agents: AgentService;
  /** The plugin status report GoCD shows, so /status shows exactly the same. */
  reports: StatusReports;
  registry: Registry;
  /** Who may read /status. */
  statusReaders: StatusReaders;
  /** `GET /metrics` needs `Authorization: Bearer <token>` when set (config `metrics.token`). */
  metricsToken?: string;
}

/** `GET /metrics` (Prometheus), `GET /docs` (API reference), `GET /status` (forwarder token or the operator's
 * read-only credential; the cluster view as a page). */
export const observabilityRoutes: FastifyPluginCallback<ObservabilityRoutesOptions> = (app, options, done) => {
  // Rendered on first request from the parsed spec: a start-up (a Lambda cold start) does not parse openapi.yaml.
  let docs: Promise<string> | undefined;
  const renderDocs = async () => {
    const [{ loadOpenApi }, { renderApiDocs }] = await Promise.all([import('./openapi.js'), import('./docs.view.js')]);
    return renderApiDocs(loadOpenApi());
  };
  app.get(
    '/metrics',
    {
      schema: routeSchema('get', '/metrics'),
      ...(options.metricsToken ? { onRequest: requireBearer([options.metricsToken]) } : {}),
    },
    async (_request, reply) => reply.type(options.registry.contentType).send(await options.registry.metrics()),
  );
  app.get('/docs', { schema: routeSchema('get', '/docs') }, async (_request, reply) => {
    docs ??= renderDocs().catch((err: unknown) => {
      docs = undefined;
      throw err;
    });
    return reply.type('text/html; charset=utf-8').send(await docs);
  });
  app.get(
    '/status',
    { schema: routeSchema('get', '/status'), onRequest: requireStatusReader(options.statusReaders) },
    async (_request, reply) => {
      const clusters = options.agents.knownClusters();
      const view = await options.reports.pluginStatus(clusters);
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
  done();
};
