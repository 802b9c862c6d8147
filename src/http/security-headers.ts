import type { FastifyInstance } from 'fastify';

/**
 * The pages this service renders (/docs, /status) are self-contained: inline CSS, no script, no form, no external
 * asset. The policy says exactly that, so markup that ever slipped through escaping could run nothing and load nothing.
 */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** `X-Content-Type-Options: nosniff` on every answer, and the page policy on every HTML answer. */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('text/html')) reply.header('content-security-policy', PAGE_CSP);
    done(null, payload);
  });
}
