import type { FastifyInstance } from 'fastify';
import type { Histogram } from 'prom-client';

/**
 * One log line per request (route, status, duration): debug when it went well, info otherwise, never headers or
 * bodies; and the latency histogram, labelled by route pattern (never the raw URL, which would carry tokens).
 */
export function registerRequestLog(app: FastifyInstance, latency: Histogram<'method' | 'route' | 'status'>): void {
  // One labelled child per (method, route, status), looked up instead of hashing the label object per request.
  const series = new Map<string, ReturnType<typeof latency.labels>>();
  app.addHook('onResponse', (request, reply, done) => {
    const line = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    const key = `${line.method} ${line.route} ${line.status}`;
    let child = series.get(key);
    if (!child) {
      child = latency.labels(line.method, line.route, String(line.status));
      series.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
    if (reply.statusCode < 400) request.log.debug(line, 'request done');
    else request.log.info(line, 'request refused');
    done();
  });
}
