import type { FastifyInstance } from 'fastify';
import type { OpenApiSpec } from './openapi.js';
import { routeSchema } from './openapi.js';

export interface HealthOptions {
  spec: OpenApiSpec;
  version: string;
  /** `available`, `unavailable: <reason>` or `unused`. */
  dockerStatus: () => Promise<string>;
}

/** `GET /healthz` and `GET /openapi.yaml`: unauthenticated, no side effects. */
export function registerOperationsRoutes(app: FastifyInstance, options: HealthOptions): void {
  app.get('/healthz', { schema: routeSchema(options.spec, 'get', '/healthz') }, async () => ({
    status: 'ok',
    version: options.version,
    docker: await options.dockerStatus(),
  }));
  app.get('/openapi.yaml', { schema: routeSchema(options.spec, 'get', '/openapi.yaml') }, async (_request, reply) =>
    reply.type('application/yaml; charset=utf-8').send(options.spec.text),
  );
}
