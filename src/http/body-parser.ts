import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body's exact bytes, kept for HMAC signature checks. */
    rawBody?: Buffer;
  }
}

/** `application/json` and every vendor `+json` type registries send (`…events.v1+json`, `cloudevents+json`). */
const JSON_TYPES = /^application\/(?:[\w.-]+\+)?json(?:\s*;.*)?$/i;

/**
 * Replaces Fastify's JSON parser: accepts vendor `+json` media types (a 415 would stall a registry's queue),
 * treats an empty body as "no body" (GoCD sends body-less requests with a JSON content type), keeps the raw bytes,
 * and still refuses `__proto__` / `constructor.prototype` keys like Fastify's own parser.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'buffer' }, (request, body, done) => {
    const buf = body as Buffer;
    request.rawBody = buf;
    const text = buf.toString('utf8');
    if (text.length === 0 || text.trim() === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}
