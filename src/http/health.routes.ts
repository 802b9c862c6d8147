import type { FastifyPluginCallback } from 'fastify';
import { openApiText, routeSchema } from './route-schemas.js';

export interface HealthRoutesOptions {
  version: string;
  /** `available`, `unavailable: <reason>` or `unused`. */
  dockerStatus: () => Promise<string>;
  /** How long one engine probe answers /healthz (default 5 s). */
  probeCacheMs?: number;
  now?: () => number;
}

/**
 * The Docker probe as /healthz shows it: at most one engine ping per `ttlMs` (concurrent callers share it), and only
 * `available`, `unavailable` or `unused`. /healthz is unauthenticated: a ping per request would let anyone drive
 * traffic to the engine, and the engine's error text (socket paths, addresses) is for the operator's log, not for it.
 */
export function cachedProbe(probe: () => Promise<string>, ttlMs: number, now: () => number): () => Promise<string> {
  let last: { at: number; value: Promise<string> } | undefined;
  return () => {
    const t = now();
    if (!last || t - last.at >= ttlMs) {
      const value = probe().then(
        (status) => status.replace(/^unavailable\b.*$/s, 'unavailable'),
        () => 'unavailable',
      );
      last = { at: t, value };
    }
    return last.value;
  };
}

/** True when an Accept header names a YAML media type (`application/yaml`, `application/openapi+yaml` …). */
function wantsYamlType(accept: string | undefined): boolean {
  return accept !== undefined && /\bapplication\/(?:[\w.-]+\+)?yaml\b/i.test(accept);
}

/** `GET /healthz` and `GET /openapi.yaml`: unauthenticated, no side effects. */
export const healthRoutes: FastifyPluginCallback<HealthRoutesOptions> = (app, options, done) => {
  const docker = cachedProbe(options.dockerStatus, options.probeCacheMs ?? 5_000, options.now ?? Date.now);
  app.get('/healthz', { schema: routeSchema('get', '/healthz') }, async () => ({
    status: 'ok',
    version: options.version,
    docker: await docker(),
  }));
  // A browser shows text/plain (it downloads application/yaml); a client asking for YAML by name gets that type.
  app.get('/openapi.yaml', { schema: routeSchema('get', '/openapi.yaml') }, async (request, reply) =>
    reply
      .type(wantsYamlType(request.headers.accept) ? 'application/yaml; charset=utf-8' : 'text/plain; charset=utf-8')
      .send(openApiText()),
  );
  done();
};
