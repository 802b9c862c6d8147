import { createHmac } from 'node:crypto';

/**
 * Equal strings, in time that depends only on `expected`'s length: XOR of every code unit, no early exit, no hashing,
 * buffers or native call (on the hot path of every authenticated request each of those cost more than the rest of a
 * should-assign-work answer). A presented value of another length fails without revealing more than that: token and
 * signature lengths are not secret.
 */
export function constantTimeEquals(presented: string, expected: string): boolean {
  let diff = presented.length ^ expected.length;
  // Past the end of `presented`, charCodeAt answers NaN, which `| 0` makes 0: still one step per expected code unit.
  for (let i = 0; i < expected.length; i++) diff |= (presented.charCodeAt(i) | 0) ^ expected.charCodeAt(i);
  return diff === 0;
}

/** True when `presented` equals any of the accepted secrets (rotation: two may be live at once). */
export function matchesAnySecret(presented: string | undefined, accepted: readonly (string | undefined)[]): boolean {
  if (presented === undefined || presented === '') return false;
  let ok = false;
  // Compare against every secret, always, so timing does not tell which one matched.
  for (const secret of accepted) if (secret && constantTimeEquals(presented, secret)) ok = true;
  return ok;
}

/** A fixed set of accepted secrets (the bearer check of every request), empty ones dropped once. */
export class SecretMatcher {
  private readonly secrets: string[];

  constructor(secrets: readonly (string | undefined)[]) {
    this.secrets = secrets.filter((s): s is string => !!s);
  }

  matches(presented: string | undefined): boolean {
    return matchesAnySecret(presented, this.secrets);
  }
}

/** Lower-case hex HMAC-SHA256 of `body` under `key` (GitHub `X-Hub-Signature-256`, JFrog signed events). */
export function hmacSha256Hex(key: string, body: Buffer | string): string {
  return createHmac('sha256', key).update(body).digest('hex');
}
