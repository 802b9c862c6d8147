import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * A string's code units as bytes (UTF-16LE): unlike UTF-8, two different strings never encode alike (a lone surrogate
 * keeps its own value instead of becoming U+FFFD), so comparing the bytes compares the strings exactly.
 */
function codeUnits(value: string): Buffer {
  return Buffer.from(value, 'utf16le');
}

/** Equal byte strings, compared by Node's constant-time `timingSafeEqual`; lengths are not secret. */
function bytesEqual(presented: Buffer, expected: Buffer): boolean {
  // timingSafeEqual needs equal lengths; a presented value of another length fails without revealing more than that.
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/**
 * Equal strings, in time that does not depend on where they differ (crypto.timingSafeEqual over their code units). A
 * presented value of another length fails without revealing more than that: token and signature lengths are not
 * secret.
 */
export function constantTimeEquals(presented: string, expected: string): boolean {
  return bytesEqual(codeUnits(presented), codeUnits(expected));
}

/** True when `presented` equals any of the accepted secrets (rotation: two may be live at once). */
export function matchesAnySecret(presented: string | undefined, accepted: readonly (string | undefined)[]): boolean {
  return new SecretMatcher(accepted).matches(presented);
}

/** A fixed set of accepted secrets (the bearer check of every request), empty ones dropped and encoded once. */
export class SecretMatcher {
  private readonly secrets: Buffer[];

  constructor(secrets: readonly (string | undefined)[]) {
    this.secrets = secrets.filter((s): s is string => !!s).map(codeUnits);
  }

  matches(presented: string | undefined): boolean {
    // An empty value matches nothing: empty secrets were dropped above.
    if (presented === undefined) return false;
    const bytes = codeUnits(presented);
    let ok = false;
    // Compare against every secret, always, so timing does not tell which one matched.
    for (const secret of this.secrets) if (bytesEqual(bytes, secret)) ok = true;
    return ok;
  }
}

/** Lower-case hex HMAC-SHA256 of `body` under `key` (GitHub `X-Hub-Signature-256`, JFrog signed events). */
export function hmacSha256Hex(key: string, body: Buffer | string): string {
  return createHmac('sha256', key).update(body).digest('hex');
}
