import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

/** Constant-time string comparison (hashing first makes unequal lengths take the same time). */
export function constantTimeEquals(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** True when `presented` equals any of the accepted secrets (rotation: two may be live at once). */
export function matchesAnySecret(presented: string | undefined, accepted: readonly (string | undefined)[]): boolean {
  if (presented === undefined || presented === '') return false;
  let ok = false;
  // Compare against every secret, always, so timing does not tell which one matched.
  for (const secret of accepted) if (secret && constantTimeEquals(presented, secret)) ok = true;
  return ok;
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const m = /^bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/**
 * An `onRequest` hook demanding a bearer token. It runs before the body is read, so a request that fails auth
 * gets 401 whatever its body, and has no side effect.
 */
export function requireBearer(expected: () => readonly (string | undefined)[]) {
  return (request: FastifyRequest, _reply: unknown, done: (err?: Error) => void): void => {
    done(
      matchesAnySecret(bearerToken(request), expected())
        ? undefined
        : new AppError('UNAUTHORIZED', 'missing or invalid bearer token'),
    );
  };
}
