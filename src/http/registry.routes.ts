import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RegistryConfig } from '../config/config.schema.js';
import { AppError, BackendUnavailableError } from '../errors.js';
import type { RegistryServices } from '../main/registry-composition.js';
import type { ParseResult } from '../registry/image-pushed.js';
import { PARSERS } from '../registry/parsers/registry-parsers.js';
import { authenticateBody, authenticateRequest } from '../registry/registry-auth.js';
import type { SubmitResult } from '../registry/trigger-service.js';
import { clip } from '../text.js';
import { type ReadBounds, readBounded, UnauthenticatedReads } from './bounded-body.js';
import { type OpenApiSpec, routeSchema } from './openapi.js';

export interface RegistryRouteOptions {
  spec: OpenApiSpec;
  /** Absent when no registry services were built: every name is then unknown. */
  registry?: RegistryServices;
  /** Lambda: answer only once scheduling ended, and 503 when a trigger was released, so the sender redelivers. */
  waitForTriggers?: boolean;
  /** Largest webhook body (config `limits.webhookBodyBytes`). */
  bodyLimit: number;
  /** Bodies read at once before their sender is authenticated, and how long one such read may take. */
  unauthenticated: { max: number; deadlineMs: number };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** A registry delivery's exact bytes (signature checks, content ids); GoCD requests do not keep them. */
    rawBody?: Buffer;
    /** Set by the registry routes' onRequest: the credential is a body signature, checked once the body is read. */
    registryPendingBody?: boolean;
  }
}

type Params = { name: string; token?: string };

/** The answer to an accepted or ignored delivery. */
export interface RegistryAck {
  accepted: number;
  duplicates: number;
  unsubscribed: number;
  ignored: string[];
}

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
export function registerRegistryRoutes(app: FastifyInstance, options: RegistryRouteOptions): void {
  const { bodyLimit } = options;
  const reads = new UnauthenticatedReads(options.unauthenticated.max);
  const lookup = (name: string): Readonly<RegistryConfig> | undefined => options.registry?.registries.get(name);
  const refuse = (request: FastifyRequest, reply: FastifyReply, type: string | undefined, reason: string) => {
    // Unknown names count under one `unknown` source (probing shows up without a label per guessed name).
    options.registry?.metrics.registryEvent(type ?? 'unknown', 'rejected');
    request.log.info({ registry: clip((request.params as Params).name, 128), reason }, 'registry webhook refused');
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
    const entry = lookup((request.params as Params).name)!;
    const services = options.registry!;
    let parsed: ParseResult;
    try {
      parsed = PARSERS[entry.type]({
        body: request.body,
        headers: request.headers,
        rawBody: request.rawBody,
        registry: entry,
      });
    } catch (err) {
      services.metrics.registryEvent(entry.type, 'rejected');
      throw err;
    }
    const submitted: SubmitResult[] = [];
    for (const push of parsed.pushes) submitted.push(await services.triggers.submit(push, 'webhook'));
    for (const test of parsed.tests ?? []) services.triggers.recordTest(test, 'webhook');
    const ack: RegistryAck = {
      accepted: submitted.filter((s) => s.status === 'accepted').length,
      duplicates: submitted.filter((s) => s.status === 'duplicate').length,
      unsubscribed: submitted.filter((s) => s.status === 'unsubscribed').length,
      ignored: [
        ...parsed.ignored,
        ...submitted.flatMap((s) => (s.status === 'not-found' && s.reason ? [s.reason] : [])),
      ],
    };
    const m = services.metrics;
    if (ack.accepted) m.registryEvent(entry.type, 'triggered', ack.accepted);
    if (ack.duplicates) m.registryEvent(entry.type, 'duplicate', ack.duplicates);
    if (ack.unsubscribed) m.registryEvent(entry.type, 'unmatched', ack.unsubscribed);
    if (ack.ignored.length) m.registryEvent(entry.type, 'ignored', ack.ignored.length);
    request.log.debug({ registry: entry.name, ...ack, ignored: parsed.ignored.length }, 'registry event received');
    if (options.waitForTriggers) {
      const records = (await Promise.all(submitted.map((s) => s.done))).flat();
      if (records.some((r) => r.outcome === 'released')) {
        throw new BackendUnavailableError('a trigger could not be completed; deliver the event again');
      }
    }
    return reply.status(ack.accepted > 0 ? 202 : 200).send(ack);
  };

  // The backstop poll runs in a listening process (a Lambda polls from a schedule instead); retries stop on close.
  app.addHook('onListen', (done) => {
    options.registry?.start();
    done();
  });
  app.addHook('onClose', async () => {
    await options.registry?.close();
  });

  for (const path of ['/registry/{name}', '/registry/{name}/{token}']) {
    app.post(path.replace(/\{(\w+)\}/g, ':$1'), {
      schema: routeSchema(options.spec, 'post', path),
      bodyLimit,
      onRequest,
      preParsing,
      handler,
    });
  }
}
