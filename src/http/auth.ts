import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { SecretMatcher } from '../security/secrets.js';

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  // What the forwarder sends, checked without a capture: `Bearer <token>`.
  // Stryker disable next-line ConditionalExpression,Regex: a fast path only; the general pattern below reads the same token
  if (/^Bearer \S+$/.test(header)) return header.slice(7);
  const m = /^bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/**
 * An `onRequest` hook demanding a bearer token. It runs before the body is read, so a request that fails auth
 * gets 401 whatever its body, and has no side effect.
 */
export function requireBearer(accepted: readonly (string | undefined)[]) {
  const matcher = new SecretMatcher(accepted);
  return (request: FastifyRequest, _reply: unknown, done: (err?: Error) => void): void => {
    done(
      matcher.matches(bearerToken(request))
        ? undefined
        : new AppError('UNAUTHORIZED', 'missing or invalid bearer token'),
    );
  };
}
