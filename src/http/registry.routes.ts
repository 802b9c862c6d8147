import { Readable } from 'node:stream';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { RegistryConfig } from '../config/config.schema.js';
import { AppError, BackendUnavailableError } from '../errors.js';
import type { RegistryDeliveries } from '../registry/delivery.js';
import { authenticateBody, authenticateRequest } from '../registry/registry-auth.js';
import type { TriggerBudget } from '../registry/trigger-service.js';
import { clip } from '../text.js';
import { type ReadBounds, readBounded, UnauthenticatedReads } from './bounded-body.js';
import { noteRefusal } from './request-log.js';
import { routeSchema } from './route-schemas.js';

export interface RegistryRoutesOptions {
  /** Configured registry entries by name (the `/registry/{name}` segment); absent or empty: every name is unknown. */
  registries?: ReadonlyMap<string, Readonly<RegistryConfig>>;
  /** Accepting a delivery once its sender is authenticated. */
  deliveries?: RegistryDeliveries;
  /** Lambda: answer only once scheduling ended, and 503 when a trigger was released, so the sender redelivers. */
  waitForTriggers?: boolean;
  /** How a delivery's triggers may wait for a busy GoCD (Lambda: the invocation's budget); default the service's. */
  budget?: (request: FastifyRequest) => TriggerBudget | undefined;
  /** Largest webhook body (config `limits.webhookBodyBytes`). */
  bodyLimit: number;
  /** Bodies read at once before their sender is authenticated, and how long one such read may take. */
  unauthenticated: { max: number; deadlineMs: number };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** A registry delivery's exact bytes (signature checks, content ids); GoCD requests do not keep them. */
    rawBody: Buffer | undefined;
    /** Set by the registry routes' onRequest: the credential is a body signature, checked once the body is read. */
    registryPendingBody: boolean;
  }
}

type Params = { name: string; token?: string };

/**
 * Every registry auth failure answers with this, whatever went wrong and whether the registry exists: the reason
 * (which header, which form of credential) goes only to the log, so a caller learns neither the configured names nor
 * how each one authenticates.
 */
const AUTH_FAILED = 'missing or invalid registry credentials';

/**
 * `POST /registry/{name}` (header- and signature-authenticated senders) and `POST /registry/{name}/{token}` (Docker
 * Hub, Quay). Header secrets and path tokens are checked in onRequest, before any byte of the body is read; so are the
 * presence and form of a body signature. Only a well-formed signature makes the service read an unauthenticated body,
 * bounded in size and time, and at most `unauthenticated.max` such bodies at once (503 beyond); the signature is
 * checked before anything is parsed. A delivery that fails auth gets 401 whatever its body and has no side effect.
 * Well-formed but irrelevant events answer 200: a 4xx would stall a distribution registry's queue.
 */
export const registryRoutes: FastifyPluginCallback<RegistryRoutesOptions> = (app, options, registered) => {
  const { bodyLimit } = options;
  const reads = new UnauthenticatedReads(options.unauthenticated.max);
  const lookup = (name: string): Readonly<RegistryConfig> | undefined => options.registries?.get(name);
  // Per-request state of these routes only (the plugin's own decorations; GoCD requests never carry them).
  app.decorateRequest('rawBody', undefined);
  app.decorateRequest('registryPendingBody', false);
  const refuse = (request: FastifyRequest, reply: FastifyReply, type: string | undefined, reason: string) => {
    options.deliveries?.refused(type);
    // Logged once, by the request's completion line ('request refused'), with this registry and reason.
    noteRefusal(request, { registry: clip((request.params as Params).name, 128), reason });
    // The body may not have been read: close the connection rather than drain what an unauthenticated sender sends.
    void reply.header('connection', 'close');
    return new AppError('UNAUTHORIZED', AUTH_FAILED);
  };

  const onRequest = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    const params = request.params as Params;
    const entry = lookup(params.name);
    if (!entry) {
      done(refuse(request, reply, undefined, 'unknown registry'));
      return;
    }
    const decision = authenticateRequest(entry, request.headers, params.token);
    if (!decision.ok) {
      done(refuse(request, reply, entry.type, decision.reason));
      return;
    }
    if (decision.pendingBody) request.registryPendingBody = true;
    done();
  };

  // The exact bytes are read here (bounded) and kept: HMAC types check their signature over them before anything is
  // parsed, and every type derives its content id from them. The same bytes then go to the JSON parser.
  const preParsing = async (request: FastifyRequest, reply: FastifyReply, payload: NodeJS.ReadableStream) => {
    const entry = lookup((request.params as Params).name)!;
    const read = async (bounds: ReadBounds): Promise<Buffer> => {
      try {
        return await readBounded(payload, request.headers['content-length'], bounds);
      } catch (err) {
        // Too large or too slow: the rest of the body is not drained, the connection is closed after the answer.
        void reply.header('connection', 'close');
        throw err;
      }
    };
    let raw: Buffer;
    if (!request.registryPendingBody) {
      raw = await read({ limit: bodyLimit });
    } else {
      const release = reads.acquire();
      if (!release) {
        void reply.header('connection', 'close').header('retry-after', '1');
        throw new AppError('OVERLOADED', 'too many unauthenticated webhook bodies in flight; retry later');
      }
      request.log.debug({ inFlight: reads.used, max: reads.max }, 'reading an unauthenticated webhook body');
      try {
        raw = await read({ limit: bodyLimit, deadlineMs: options.unauthenticated.deadlineMs });
      } finally {
        release();
      }
      const decision = authenticateBody(entry, request.headers, raw);
      if (!decision.ok) throw refuse(request, reply, entry.type, decision.reason);
    }
    request.rawBody = raw;
    const replay = Readable.from([raw]) as Readable & { receivedEncodedLength?: number };
    replay.receivedEncodedLength = raw.length;
    return replay;
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const registry = lookup((request.params as Params).name)!;
    const { ack, done: ended } = await options.deliveries!.accept(
      { registry, body: request.body, headers: request.headers, rawBody: request.rawBody },
      request.log,
      options.budget?.(request),
    );
    if (options.waitForTriggers && (await ended).some((r) => r.outcome === 'released')) {
      throw new BackendUnavailableError('a trigger could not be completed; deliver the event again');
    }
    return reply.status(ack.accepted > 0 ? 202 : 200).send(ack);
  };

  for (const path of ['/registry/:name', '/registry/:name/:token']) {
    app.post(path, { schema: routeSchema('post', path), bodyLimit, onRequest, preParsing, handler });
  }
  registered();
};
