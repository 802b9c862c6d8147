import type { FastifyPluginCallback } from 'fastify';
import type { RegistryConfig } from '../config/config.schema.js';
import { AppError } from '../errors.js';
import type { TriggerService } from '../registry/trigger-service.js';
import { requireBearer } from './auth.js';
import { routeSchema } from './route-schemas.js';

export interface TriggerRoutesOptions {
  triggers?: Pick<TriggerService, 'rerun'>;
  registries?: ReadonlyMap<string, Readonly<RegistryConfig>>;
  /**
   * `gocd.apiToken`: the token the service schedules pipelines with. Whoever holds it can schedule these pipelines in
   * GoCD directly, so accepting it here grants nothing new; a registry secret or the status login never opens this.
   */
  operatorToken: string | undefined;
}

interface RerunBody {
  registry: string;
  image: string;
  tag: string;
  digest?: string;
  pipeline: string;
}

/** How long a re-run waits for a busy GoCD (409/5xx) before it answers `released` (run it again later). */
const RERUN_RETRY_MS = 30_000;

/**
 * `POST /triggers/rerun`: runs a trigger again that GoCD refused (404/403/422, or busy past the retry window), once
 * the pipeline is fixed, and answers how that went (the new trigger report record). A redelivery cannot: the
 * trigger's key says failed for `store.ttlDays`.
 */
export const triggerRoutes: FastifyPluginCallback<TriggerRoutesOptions> = (app, options, done) => {
  app.post<{ Body: RerunBody }>(
    '/triggers/rerun',
    { schema: routeSchema('post', '/triggers/rerun'), onRequest: requireBearer([options.operatorToken]) },
    async (request, reply) => {
      const { triggers, registries } = options;
      if (!triggers || !registries) throw new AppError('NOT_FOUND', 'no registry triggers are configured');
      const body = request.body;
      const entry = registries.get(body.registry);
      if (!entry) throw new AppError('BAD_REQUEST', `registry: no configured registry named '${body.registry}'`);
      const prefix = `${entry.host}/`;
      if (!body.image.startsWith(prefix) || body.image.length === prefix.length) {
        throw new AppError('BAD_REQUEST', `image: must be an image of ${entry.host} (${prefix}<repository>)`);
      }
      const push = {
        registry: entry.name,
        host: entry.host,
        repository: body.image.slice(prefix.length),
        tag: body.tag,
        ...(body.digest ? { digest: body.digest } : {}),
      };
      const now = Date.now();
      const result = await triggers.rerun(
        { push, pipeline: body.pipeline },
        { firstAttemptAt: now, attempt: 0, retryUntil: now + RERUN_RETRY_MS, whenBusy: 'release' },
      );
      if (result.kind === 'refused') throw new AppError('CONFLICT', result.reason);
      return reply.status(200).send(result.record);
    },
  );
  done();
};
