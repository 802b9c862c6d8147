import type { FastifyInstance } from 'fastify';

/** `application/json` and every vendor `+json` type registries send (`…events.v1+json`, `cloudevents+json`). */
const JSON_TYPES = /^application\/(?:[\w.-]+\+)?json(?:\s*;.*)?$/i;

/**
 * Replaces Fastify's JSON parser: accepts vendor `+json` media types (a 415 would stall a registry's queue), treats an
 * empty body as "no body" (GoCD sends body-less requests with a JSON content type), and still refuses `__proto__` /
 * `constructor.prototype` keys like Fastify's own parser. It reads text, as Fastify's does: registry routes keep the
 * exact bytes themselves (see registry.routes.ts), so the GoCD path does not pay for a copy it never uses.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.length === 0 || text.trim() === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, text, (err, parsed) => {
      if (!err) {
        done(null, parsed);
        return;
      }
      // Fastify's message always says 'application/json'; name the media type the sender really used.
      const mediaType = String(request.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim();
      done(invalidJson(mediaType), undefined);
    });
  });
}

/** Fastify's invalid-JSON error (same code, 400), naming the media type that was sent. */
function invalidJson(mediaType: string): Error {
  return Object.assign(new Error(`Body is not valid JSON but content-type is set to '${mediaType}'`), {
    code: 'FST_ERR_CTP_INVALID_JSON_BODY',
    statusCode: 400,
  });
}
