import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { constantTimeEquals, SecretMatcher } from '../security/secrets.js';

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

/** The user and password of an `Authorization: Basic <base64(user:password)>` header (RFC 7617), or undefined. */
export function basicCredentials(request: FastifyRequest): { user: string; password: string } | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const m = BASIC.exec(header);
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const BASIC = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i;

/** Who may read `/status`: the forwarder's tokens (as today) and the read-only operator credential, when set. */
export interface StatusReaders {
  forwarderTokens: readonly (string | undefined)[];
  username: string;
  password?: string | undefined;
}

/** The realm a browser shows when it asks for the operator credential. */
export const STATUS_REALM = 'gocd-agent-scaler status';

/**
 * An `onRequest` hook for the read-only pages: a forwarder token or the status password as a bearer token, or the
 * status username and password as HTTP Basic, which a browser asks for because a refusal says
 * `WWW-Authenticate: Basic` (RFC 7235 §4.1, RFC 7617 §2). The status credential is accepted here and nowhere else.
 */
export function requireStatusReader(readers: StatusReaders) {
  const bearer = new SecretMatcher([...readers.forwarderTokens, readers.password]);
  const password = new SecretMatcher([readers.password]);
  const challenge = readers.password
    ? `Basic realm="${STATUS_REALM}", charset="UTF-8"`
    : `Bearer realm="${STATUS_REALM}"`;
  return (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    const basic = basicCredentials(request);
    // Both parts compared, always, so timing tells neither which part was wrong.
    const userOk = basic !== undefined && constantTimeEquals(basic.user, readers.username);
    const basicOk = password.matches(basic?.password) && userOk;
    if (basicOk || bearer.matches(bearerToken(request))) {
      done();
      return;
    }
    void reply.header('www-authenticate', challenge);
    done(new AppError('UNAUTHORIZED', 'missing or invalid status credential (HTTP Basic or a bearer token)'));
  };
}
