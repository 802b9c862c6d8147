import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import type { ParseResult } from '../../src/registry/image-pushed.js';
import { PARSERS } from '../../src/registry/parsers/registry-parsers.js';
import { registryEntry, registryFixture } from '../support/registry-fixtures.js';

// The message a user gets back (as a 400) for a malformed body: "<type> event: " and then the field at fault. Each
// case starts from a verbatim fixture of test/fixtures/registry/ (SOURCES.md) and breaks one field.

type RegistryType = keyof typeof PARSERS;
// biome-ignore lint/suspicious/noExplicitAny: tests derive variants by reaching deep into verbatim payloads
type Json = Record<string, any>;

const githubHeaders = (event: string) => ({ 'x-github-event': event });

function run(type: RegistryType, body: unknown, headers: Json = {}): ParseResult {
  return PARSERS[type]({ body, headers, registry: registryEntry(type) });
}

/** What the parser threw: it must be a ValidationError (a 400), never a TypeError (a 500) or nothing. */
function thrownBy(type: RegistryType, body: unknown, headers: Json = {}): { message: string; details: unknown } {
  let thrown: unknown;
  try {
    run(type, body, headers);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ValidationError);
  const { message, details } = thrown as ValidationError;
  return { message, details };
}

function fixtureWith(name: string, change: (body: Json) => void): Json {
  const body = registryFixture<Json>(name);
  change(body);
  return body;
}

describe('messages for a malformed body, one per registry type', () => {
  // Each row breaks one field of a verbatim body: `field` is its path from the body, `value` what it becomes
  // (undefined: deleted).
  it.each([
    {
      type: 'artifactory',
      fixture: 'artifactory-docker-pushed.json',
      field: 'event_type',
      value: 5,
      problem: 'must be string',
    },
    {
      type: 'dockerhub',
      fixture: 'dockerhub-push.json',
      field: 'push_data/tag',
      value: undefined,
      problem: "must have required property 'tag'",
    },
    { type: 'ecr', fixture: 'ecr-image-push.json', field: 'detail', value: 'PUSH', problem: 'must be object' },
    { type: 'quay', fixture: 'quay-push.json', field: 'repository', value: 5, problem: 'must be string' },
  ] as const)(
    'refuses a $type body with a broken $field, prefixing the type and naming the field',
    ({ type, fixture, field, value, problem }) => {
      const body = fixtureWith(fixture, (b) => {
        const keys = field.split('/');
        const last = keys.pop() as string;
        const parent = keys.reduce((o, k) => o[k], b);
        if (value === undefined) delete parent[last];
        else parent[last] = value;
      });
      expect(thrownBy(type, body)).toEqual({
        message: `${type} event: body/${field} ${problem}`,
        details: [{ path: `body/${field}`, message: problem }],
      });
    },
  );

  it('names artifactory and the missing event_type, in the flat docker body too', () => {
    const body = fixtureWith('artifactory-docker-pushed-flat.json', (b) => {
      delete b.event_type;
    });
    expect(thrownBy('artifactory', body).message).toBe(
      "artifactory event: body/event_type must have required property 'event_type'",
    );
  });

  it('names artifactory and the wrapped data that is not an object', () => {
    const body = fixtureWith('artifactory-docker-pushed.json', (b) => {
      b.data = 'tag';
    });
    expect(thrownBy('artifactory', body).message).toBe('artifactory event: body/data must be object');
  });

  it.each([
    ['text', 'artifactory event: body must be object'],
    [7, 'artifactory event: body must be object'],
    [null, 'artifactory event: body is required'],
  ])('refuses %s as an artifactory body with "%s"', (body, message) => {
    expect(thrownBy('artifactory', body).message).toBe(message);
  });

  it.each([
    ['package', 'github-package-published.json'],
    ['registry_package', 'github-registry-package-published.json'],
  ])('names github and the %s owner that is missing', (event, fixture) => {
    const body = fixtureWith(fixture, (b) => {
      delete b[event].owner;
    });
    expect(thrownBy('github', body, githubHeaders(event))).toEqual({
      message: `github event: body/${event}/owner must have required property 'owner'`,
      details: [{ path: `body/${event}/owner`, message: "must have required property 'owner'" }],
    });
  });
});

describe('GitHub bodies of events that are not package events', () => {
  it.each([null, undefined])('refuses a ping without a body (%s) as required, naming github', (body) => {
    expect(thrownBy('github', body, githubHeaders('ping'))).toEqual({
      message: 'github event: body is required',
      details: [{ path: 'body', message: 'is required' }],
    });
  });

  it.each(['text', 5, { zen: 'z' }])('ignores a ping whose body %j is present, since it is not read', (body) => {
    expect(run('github', body, githubHeaders('ping'))).toEqual({ pushes: [], ignored: ['ping event'] });
  });
});
