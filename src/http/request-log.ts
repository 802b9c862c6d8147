import type { FastifyInstance } from 'fastify';

/** One log line per request (route, status, duration): debug when it went well, info otherwise. Never headers or bodies. */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    const line = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (reply.statusCode < 400) request.log.debug(line, 'request done');
    else request.log.info(line, 'request refused');
    done();
  });
}
