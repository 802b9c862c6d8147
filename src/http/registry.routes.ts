import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RegistryConfig } from '../config/config.schema.js';
import { AppError, BackendUnavailableError } from '../errors.js';
import type { ParseResult } from '../registry/image-pushed.js';
import { PARSERS } from '../registry/parsers/registry-parsers.js';
import { authenticateBody, authenticateRequest, needsBody } from '../registry/registry-auth.js';
import type { RegistryServices } from '../registry/registry-composition.js';
import type { SubmitResult } from '../registry/trigger-service.js';
import { type OpenApiSpec, routeSchema } from './openapi.js';

export interface RegistryRouteOptions {
  spec: OpenApiSpec;
  /** Absent when no registry services were built: every name is then unknown. */
  registry?: RegistryServices;
  /** Lambda: answer only once scheduling ended, and 503 when a trigger was released, so the sender redelivers. */
  waitForTriggers?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** A registry delivery's exact bytes (signature checks, content ids); GoCD requests do not keep them. */
    rawBody?: Buffer;
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
 * `POST /registry/{name}` (header- and signature-authenticated senders) and `POST /registry/{name}/{token}` (Docker
 * Hub, Quay). Auth runs before the body is parsed (HMAC types check the raw bytes while they are read), so a delivery
 * that fails it gets 401 whatever its body and has no side effect. Well-formed but irrelevant events answer 200: a 4xx
 * would stall a distribution registry's queue.
 */
export function registerRegistryRoutes(app: FastifyInstance, options: RegistryRouteOptions): void {
  const bodyLimit = app.initialConfig.bodyLimit ?? 1_048_576;
  const lookup = (name: string): Readonly<RegistryConfig> => {
    const entry = options.registry?.registries.get(name);
    if (!entry) throw new AppError('UNKNOWN_REGISTRY', `unknown registry '${name}'`);
    return entry;
  };

  const onRequest = (request: FastifyRequest, _reply: unknown, done: (err?: Error) => void): void => {
    try {
      const params = request.params as Params;
      const entry = lookup(params.name);
      const decision = authenticateRequest(entry, request.headers, params.token);
      if (!decision.ok) options.registry?.metrics.registryEvent(entry.type, 'rejected');
      done(decision.ok ? undefined : new AppError('UNAUTHORIZED', decision.reason));
    } catch (err) {
      done(err as Error);
    }
  };

  // The exact bytes are read here (bounded) and kept: HMAC types check their signature over them before anything is
  // parsed, and every type derives its content id from them. The same bytes then go to the JSON parser.
  const preParsing = async (request: FastifyRequest, _reply: unknown, payload: NodeJS.ReadableStream) => {
    const entry = lookup((request.params as Params).name);
    const raw = await readBounded(payload, request.headers['content-length'], bodyLimit);
    request.rawBody = raw;
    if (needsBody(entry)) {
      const decision = authenticateBody(entry, request.headers, raw);
      if (!decision.ok) {
        options.registry?.metrics.registryEvent(entry.type, 'rejected');
        throw new AppError('UNAUTHORIZED', decision.reason);
      }
    }
    const replay = Readable.from([raw]) as Readable & { receivedEncodedLength?: number };
    replay.receivedEncodedLength = raw.length;
    return replay;
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const entry = lookup((request.params as Params).name);
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
      onRequest,
      preParsing,
      handler,
    });
  }
}

/** Reads a request body completely, refusing more than `limit` bytes (413), like Fastify's own parser. */
async function readBounded(
  payload: NodeJS.ReadableStream,
  contentLength: string | undefined,
  limit: number,
): Promise<Buffer> {
  const tooLarge = () => new AppError('PAYLOAD_TOO_LARGE', `body over ${limit} bytes`);
  if (contentLength !== undefined && Number(contentLength) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of payload) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > limit) throw tooLarge();
    chunks.push(buf);
  }
  return Buffer.concat(chunks, size);
}
