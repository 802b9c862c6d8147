import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constantTimeEquals, matchesAnySecret, SecretMatcher } from '../../src/security/secrets.js';

describe('constant-time secret comparison', () => {
  const secret = 'test-forwarder-token-0123456789';

  it.each([
    ['the secret itself', secret, true],
    ['a copy built at run time', ['test-forwarder-token-', '0123456789'].join(''), true],
    ['one code unit changed at the end', `${secret.slice(0, -1)}8`, false],
    ['one code unit changed at the start', `T${secret.slice(1)}`, false],
    ['a prefix', secret.slice(0, 10), false],
    ['the secret plus more', `${secret}0`, false],
    ['empty', '', false],
    ['NUL code units of the same length', '\0'.repeat(secret.length), false],
    ['a non-BMP lookalike of another length', `${secret.slice(0, -1)}\u{1F600}`, false],
  ])('%s → %s', (_label, presented, expected) => {
    expect(constantTimeEquals(presented, secret)).toBe(expected);
    expect(new SecretMatcher([secret]).matches(presented)).toBe(expected && presented !== '');
  });

  it('agrees with === on random pairs, including shared prefixes and surrogates', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.boolean(), (a, b, same) => {
        const presented = same ? `${b}` : a;
        expect(constantTimeEquals(presented, b)).toBe(presented === b);
      }),
      { numRuns: 2000 },
    );
  });

  it('tells apart strings that differ only in a lone surrogate (UTF-8 would turn both into U+FFFD)', () => {
    expect(constantTimeEquals('token-\uD800', 'token-\uD801')).toBe(false);
    expect(new SecretMatcher(['token-\uDC00']).matches('token-\uDC01')).toBe(false);
    expect(constantTimeEquals('token-\uD800', 'token-\uD800')).toBe(true);
  });

  it('accepts either of two live secrets (rotation) and ignores unset ones', () => {
    const matcher = new SecretMatcher([undefined, 'primary-secret-aaaaaaaa', '', 'secondary-secret-bbbbbbbb']);
    expect(matcher.matches('primary-secret-aaaaaaaa')).toBe(true);
    expect(matcher.matches('secondary-secret-bbbbbbbb')).toBe(true);
    expect(matcher.matches('primary-secret-aaaaaaab')).toBe(false);
    expect(matcher.matches(undefined)).toBe(false);
    expect(matcher.matches('')).toBe(false);
    expect(matchesAnySecret('x', [undefined, ''])).toBe(false);
  });
});
