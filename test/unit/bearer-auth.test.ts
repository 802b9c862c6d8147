import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { basicCredentials, bearerToken, requireBearer } from '../../src/http/auth.js';

const TOKEN = 'forwarder-token-0123456789';
const request = (authorization?: unknown) => ({ headers: { authorization } }) as unknown as FastifyRequest;

/** Runs the onRequest hook and says what it passed to `done`. */
function hook(accepted: (string | undefined)[], authorization?: unknown): Error | undefined {
  let result: Error | undefined | 'not called' = 'not called';
  requireBearer(accepted)(request(authorization), undefined, (err) => {
    result = err;
  });
  if (result === 'not called') throw new Error('the hook did not call done');
  return result;
}

describe('bearer token header', () => {
  it.each([
    ['what the forwarder sends', `Bearer ${TOKEN}`],
    ['a lower-case scheme', `bearer ${TOKEN}`],
    ['an upper-case scheme', `BEARER ${TOKEN}`],
    ['several spaces after the scheme', `Bearer   ${TOKEN}`],
    ['a tab after the scheme', `Bearer\t${TOKEN}`],
    ['trailing blanks', `Bearer ${TOKEN}  `],
  ])('reads the token from %s', (_name, header) => {
    expect(bearerToken(request(header))).toBe(TOKEN);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['the scheme alone', 'Bearer'],
    ['the scheme and a blank', 'Bearer '],
    ['another scheme', `Basic ${TOKEN}`],
    ['a word before the scheme', `x Bearer ${TOKEN}`],
    ['a scheme run into the token', `Bearer${TOKEN}`],
    ['a prefix glued to the scheme', `XBearer ${TOKEN}`],
    ['a second word after the token', `Bearer ${TOKEN} extra`],
    ['a lower-case scheme with a second word', `bearer ${TOKEN} extra`],
    ['a header sent twice (an array)', [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]],
    ['a header in a one-item array', [`Bearer ${TOKEN}`]],
  ])('reads no token from %s', (_name, header) => {
    expect(bearerToken(request(header))).toBeUndefined();
  });

  it('lets a request with an accepted token through, with either of two rotated tokens', () => {
    expect(hook([TOKEN, 'next-token-0123456789'], `Bearer ${TOKEN}`)).toBeUndefined();
    expect(hook([TOKEN, 'next-token-0123456789'], 'Bearer next-token-0123456789')).toBeUndefined();
  });

  it.each([
    ['a wrong token', 'Bearer wrong-token-0123456789'],
    ['no header', undefined],
    ['the token with a second word', `Bearer ${TOKEN} extra`],
    ['the token without the scheme', TOKEN],
  ])('refuses %s with 401 UNAUTHORIZED naming the problem', (_name, header) => {
    const err = hook([TOKEN], header);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'UNAUTHORIZED', message: 'missing or invalid bearer token' });
  });

  it('refuses everything when no token is configured', () => {
    expect(hook([undefined, ''], 'Bearer ')).toBeInstanceOf(AppError);
    expect(hook([undefined], `Bearer ${TOKEN}`)).toBeInstanceOf(AppError);
  });
});

describe('HTTP Basic credentials header (RFC 7617)', () => {
  const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;

  it('splits user and password at the first colon', () => {
    expect(basicCredentials(request(basic('ops:pa:ss')))).toEqual({ user: 'ops', password: 'pa:ss' });
  });

  it('reads an empty user name before the colon as such (RFC 7617 allows it)', () => {
    expect(basicCredentials(request(basic(':secret')))).toEqual({ user: '', password: 'secret' });
  });

  it('reads no credentials from a value without a colon', () => {
    expect(basicCredentials(request(basic('opssecret')))).toBeUndefined();
  });

  it.each([
    ['no header', undefined],
    ['a header in a one-item array', [basic('ops:secret')]],
    ['a header sent twice (an array)', [basic('ops:secret'), basic('ops:secret')]],
  ])('reads no credentials from %s', (_name, header) => {
    expect(basicCredentials(request(header))).toBeUndefined();
  });
});
