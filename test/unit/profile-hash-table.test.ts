import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePoolAgentId, poolAgentId, profileHash } from '../../src/agents/warm-pool-id.js';

/** One row of the canonical profile-hash table shared with the forwarder's Java tests (ProfileHashTableTest). */
interface HashCase {
  name: string;
  clusterId: string;
  environment: string | null;
  properties: unknown;
  expected: string | null;
}

const cases = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'profile-hash-cases.json'), 'utf8'),
) as HashCase[];
const byName = (prefix: string) => cases.find((c) => c.name.startsWith(prefix))!;

describe('canonical profile hash table shared with the forwarder plugin', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(profileHash(c.clusterId, c.environment, c.properties) ?? null).toBe(c.expected);
  });

  it('hashes equal content equally and different content differently', () => {
    expect(byName('key order').expected).toBe(byName('the same keys').expected);
    expect(byName('blank and null').expected).toBe(byName('key order').expected);
    expect(byName('the sizing keys').expected).toBe(byName('key order').expected);
    expect(byName('an empty environment').expected).toBe(byName('key order').expected);
    expect(byName('another cluster id').expected).not.toBe(byName('key order').expected);
    expect(byName('a GoCD environment').expected).not.toBe(byName('key order').expected);
    expect(byName('a non-string value').expected).toBeNull();
  });
});

describe('pool agent ids', () => {
  it('round-trip through their parts and refuse anything else', () => {
    const parts = { profileHash: 'fca2bc23cda3', instance: '5f3a9c01', nonce: '0000a1b2' };
    expect(parsePoolAgentId(poolAgentId(parts))).toEqual(parts);
    expect(parsePoolAgentId('ea-100-81636904')).toBeUndefined();
    expect(parsePoolAgentId('ea-pool-FCA2BC23CDA3-5f3a9c01-0000a1b2')).toBeUndefined();
    expect(parsePoolAgentId(`${poolAgentId(parts)}0`)).toBeUndefined();
  });
});
