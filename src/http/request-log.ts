import { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { LatencyHistogram, LatencySeries } from '../metrics/latency-histogram.js';

/** Why a request was refused (a route's own reason, the error handler's code), for the request's one log line. */
const refusals = new WeakMap<FastifyRequest, Readonly<Record<string, unknown>>>();

/**
 * Records why `request` is refused; its completion line (below) carries it: one line per refused request. What was
 * noted first stays (a route's specific reason, e.g. `invalid path token`, over the generic answer it sends).
 */
export function noteRefusal(request: FastifyRequest, fields: Readonly<Record<string, unknown>>): void {
  refusals.set(request, { ...fields, ...refusals.get(request) });
}

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
    // The line is built only when it is written: most answers are debug lines, below the default level. No closure
    // is made per request (this runs on every answer, should-assign-work's included).
    const log = request.log;
    if (error) log.warn({ ...requestLine(method, route, status, elapsed), err: error }, 'response failed');
    else if (status >= 400)
      log.info({ ...requestLine(method, route, status, elapsed), ...refusals.get(request) }, 'request refused');
    else if ((log as LevelAware).isLevelEnabled('debug')) {
      log.debug(requestLine(method, route, status, elapsed), 'request done');
    }
  }

  #seriesOf(method: string, route: string, status: number): LatencySeries {
    let byRoute = this.#series.get(method);
    if (byRoute === undefined) {
      byRoute = new Map();
      this.#series.set(method, byRoute);
    }
    let byStatus = byRoute.get(route);
    if (byStatus === undefined) {
      byStatus = new Map();
      byRoute.set(route, byStatus);
    }
    let series = byStatus.get(status);
    if (series === undefined) {
      series = this.#latency.labels(method, route, String(status));
      byStatus.set(status, series);
    }
    return series;
  }
}

function requestLine(method: string, route: string, status: number, elapsedMs: number) {
  return { method, route, status, ms: Math.round(elapsedMs * 10) / 10 };
}
