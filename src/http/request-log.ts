import { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { LatencyHistogram, LatencySeries } from '../metrics/latency-histogram.js';

/** pino loggers (and the lazy request logger standing in for one) can tell whether a level is written. */
type LevelAware = FastifyBaseLogger & { isLevelEnabled(level: string): boolean };

/**
 * One log line per request (route, status, duration): debug when it went well, info otherwise, never headers or
 * bodies; and the latency histogram, labelled by route pattern (never the raw URL, which would carry tokens).
 *
 * It is Fastify's log controller (the documented way to shape its per-request lines), whose `requestCompleted`
 * Fastify calls once every response finished, 404s included; an `onResponse` hook would do the same through a hook
 * runner on every request, a tenth of should-assign-work's whole cost. Fastify's own lines stay off.
 */
export class RequestLogController extends LogController {
  // One labelled child per (method, route, status), found without building a key or hashing labels per request.
  readonly #series = new Map<string, Map<string, Map<number, LatencySeries>>>();
  readonly #latency: LatencyHistogram<'method' | 'route' | 'status'>;

  constructor(latency: LatencyHistogram<'method' | 'route' | 'status'>) {
    super({ disableRequestLogging: true });
    this.#latency = latency;
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const method = request.method;
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const elapsed = reply.elapsedTime;
    this.#seriesOf(method, route, status).observe(elapsed / 1000);
    // The line is built only when it is written: most answers are debug lines, below the default level.
    const line = () => ({ method, route, status, ms: Math.round(elapsed * 10) / 10 });
    if (error) request.log.warn({ ...line(), err: error }, 'response failed');
    else if (status >= 400) request.log.info(line(), 'request refused');
    else if ((request.log as LevelAware).isLevelEnabled('debug')) request.log.debug(line(), 'request done');
  }

  #seriesOf(method: string, route: string, status: number): LatencySeries {
    const byRoute = entry(this.#series, method, () => new Map<string, Map<number, LatencySeries>>());
    const byStatus = entry(byRoute, route, () => new Map<number, LatencySeries>());
    return entry(byStatus, status, () => this.#latency.labels(method, route, String(status)));
  }
}

function entry<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
