import type { RegistryConfig, RegistryType } from '../config/config.schema.js';
import { constantTimeEquals, hmacSha256Hex, matchesAnySecret } from '../security/secrets.js';

/** How a registry type proves a delivery is genuine. */
export type AuthMode =
  /** A static secret in a header (distribution, Harbor, EventBridge API destination). */
  | 'header'
  /** HMAC-SHA256 of the raw body (GitHub `X-Hub-Signature-256: sha256=<hex>`). */
  | 'hmac'
  /** Artifactory's `X-JFrog-Event-Auth`: the secret itself, or the body's HMAC when the webhook signs. */
  | 'header-or-hmac'
  /** An unguessable token in the URL path (Docker Hub, Quay cannot send headers). */
  | 'path';

/** Auth mode per registry type. */
export const AUTH_MODES: Readonly<Record<RegistryType, AuthMode>> = {
  distribution: 'header',
  ecr: 'header',
  harbor: 'header',
  github: 'hmac',
  artifactory: 'header-or-hmac',
  dockerhub: 'path',
  quay: 'path',
};

/** Default header per mode when the entry sets none. */
const DEFAULT_HEADER: Readonly<Record<AuthMode, string>> = {
  header: 'authorization',
  hmac: 'x-hub-signature-256',
  'header-or-hmac': 'x-jfrog-event-auth',
  path: '',
};

/**
 * The outcome of an auth check; `reason` is safe to log (it never holds a secret). `pendingBody`: the credential is
 * well-formed but is a signature of the body, which must still be read (bounded) and checked by `authenticateBody`.
 */
export type AuthDecision = { ok: true; pendingBody?: true } | { ok: false; reason: string };

type Headers = Readonly<Record<string, string | string[] | undefined>>;

const OK: AuthDecision = { ok: true };
const PENDING_BODY: AuthDecision = { ok: true, pendingBody: true };

/** True when the check needs the raw body, so it runs once the bytes are read (still before any side effect). */
export function needsBody(registry: Pick<RegistryConfig, 'type'>): boolean {
  const mode = AUTH_MODES[registry.type];
  return mode === 'hmac' || mode === 'header-or-hmac';
}

function headerName(registry: Pick<RegistryConfig, 'type' | 'header'>): string {
  return (registry.header ?? DEFAULT_HEADER[AUTH_MODES[registry.type]]).toLowerCase();
}

function headerValue(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function secrets(registry: Pick<RegistryConfig, 'secret' | 'secondarySecret'>): string[] {
  return [registry.secret, registry.secondarySecret].filter((s): s is string => !!s);
}

/**
 * The checks that need no body: header secrets and path tokens. `pathToken` is the `/registry/{name}/{token}`
 * segment (undefined on `/registry/{name}`). Body-signed types are refused here too when their header is missing or
 * cannot be a signature, so only a well-formed signature makes the service read an unauthenticated body; Artifactory's
 * header holding the secret itself authenticates here, before its body.
 */
export function authenticateRequest(
  registry: Pick<RegistryConfig, 'name' | 'type' | 'header' | 'secret' | 'secondarySecret'>,
  headers: Headers,
  pathToken: string | undefined,
): AuthDecision {
  const mode = AUTH_MODES[registry.type];
  if (mode === 'path') {
    if (pathToken === undefined) {
      return {
        ok: false,
        reason: `registry '${registry.name}' (${registry.type}) authenticates by path: POST /registry/${registry.name}/<token>`,
      };
    }
    return matchesAnySecret(pathToken, secrets(registry)) ? OK : { ok: false, reason: 'invalid path token' };
  }
  if (pathToken !== undefined) {
    // A header/HMAC sender never needs a secret in its URL (where proxies log it); refuse rather than accept both.
    return { ok: false, reason: `registry '${registry.name}' (${registry.type}) does not take a path token` };
  }
  const name = headerName(registry);
  const raw = headerValue(headers, name);
  if (raw === undefined || raw.trim() === '') return { ok: false, reason: `missing ${name} header` };
  if (mode === 'hmac') {
    // GitHub's `sha256=<64 hex>`.
    return /^sha256=[0-9a-f]{64}$/i.test(raw.trim())
      ? PENDING_BODY
      : { ok: false, reason: `malformed ${name} signature` };
  }
  if (mode === 'header-or-hmac') {
    if (matchesAnySecret(raw.trim(), secrets(registry))) return OK;
    // Artifactory's bare 64 hex when it signs.
    return /^[0-9a-f]{64}$/i.test(raw.trim()) ? PENDING_BODY : { ok: false, reason: `invalid ${name} header` };
  }
  // `Authorization` carries `Bearer <secret>` (distribution, API destinations) or the bare value (Harbor's
  // "Auth Header" is sent verbatim, and operators fill in either form).
  const presented = name === 'authorization' ? (/^bearer\s+(\S+)\s*$/i.exec(raw)?.[1] ?? raw.trim()) : raw.trim();
  return matchesAnySecret(presented, secrets(registry)) ? OK : { ok: false, reason: `invalid ${name} header` };
}

/** The checks over the raw body bytes: GitHub's HMAC, Artifactory's secret-or-HMAC. Other modes pass. */
export function authenticateBody(
  registry: Pick<RegistryConfig, 'type' | 'header' | 'secret' | 'secondarySecret'>,
  headers: Headers,
  rawBody: Buffer,
): AuthDecision {
  const mode = AUTH_MODES[registry.type];
  if (mode !== 'hmac' && mode !== 'header-or-hmac') return OK;
  const name = headerName(registry);
  const presented = headerValue(headers, name)?.trim();
  if (!presented) return { ok: false, reason: `missing ${name} header` };
  const keys = secrets(registry);
  let ok = false;
  // Every candidate is computed and compared, whichever matches, so timing says nothing about which key is live.
  for (const key of keys) {
    const mac = hmacSha256Hex(key, rawBody);
    if (mode === 'hmac' && constantTimeEquals(presented.toLowerCase(), `sha256=${mac}`)) ok = true;
    if (mode === 'header-or-hmac' && constantTimeEquals(presented.toLowerCase(), mac)) ok = true;
  }
  if (mode === 'header-or-hmac' && matchesAnySecret(presented, keys)) ok = true;
  return ok ? OK : { ok: false, reason: `invalid ${name} signature` };
}
