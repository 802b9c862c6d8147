import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

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

/**
 * Constant-time matching against a fixed set of secrets, kept as bytes: each check compares the presented bytes with
 * every secret (the hot path of every authenticated request, so no hashing). A presented value of another length
 * compares a secret with itself instead (the same work) and fails, so timing can tell at most the length, which is
 * not secret (tokens have a documented minimum length and a fixed format).
 */
export class SecretMatcher {
  private readonly secrets: Buffer[];

  constructor(secrets: readonly (string | undefined)[]) {
    this.secrets = secrets.filter((s): s is string => !!s).map((s) => Buffer.from(s, 'utf8'));
  }

  matches(presented: string | undefined): boolean {
    if (presented === undefined || presented === '') return false;
    const bytes = Buffer.from(presented, 'utf8');
    let ok = false;
    // Compare against every secret, always, so timing does not tell which one matched.
    for (const secret of this.secrets) {
      const sameLength = bytes.length === secret.length;
      if (timingSafeEqual(sameLength ? bytes : secret, secret) && sameLength) ok = true;
    }
    return ok;
  }
}

/** Lower-case hex HMAC-SHA256 of `body` under `key` (GitHub `X-Hub-Signature-256`, JFrog signed events). */
export function hmacSha256Hex(key: string, body: Buffer | string): string {
  return createHmac('sha256', key).update(body).digest('hex');
}
