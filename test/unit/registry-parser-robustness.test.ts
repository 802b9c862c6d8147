import { describe, expect, it } from 'vitest';
import type { RegistryType } from '../../src/config/config.schema.js';
import { AppError } from '../../src/errors.js';
import { PARSERS } from '../../src/registry/parsers/registry-parsers.js';
import { registryEntry, registryFixture } from '../support/registry-fixtures.js';

// Exhaustive type confusion over every real payload: each node (leaf or branch) of each fixture replaced by a value of
// every JSON type, and deleted. A parser may accept, ignore or refuse (ValidationError → 400), but never throw
// anything else: a TypeError there is a 500 to the sender. Regression for the github parser calling toLowerCase on a
// non-string `ecosystem` (found by test/fuzz/registry-endpoint.fuzz.test.ts).

const FIXTURES: [RegistryType, string, Record<string, string>][] = [
  ['distribution', 'distribution-index-push.json', {}],
  ['distribution', 'distribution-manifest-push.json', {}],
  ['distribution', 'distribution-blob-push.json', {}],
  ['distribution', 'distribution-untagged-manifest-push.json', {}],
  ['distribution', 'distribution-delete.json', {}],
  ['distribution', 'distribution-mount.json', {}],
  ['ecr', 'ecr-image-push.json', {}],
  ['ecr', 'ecr-replication.json', {}],
  ['dockerhub', 'dockerhub-push.json', {}],
  ['harbor', 'harbor-push-default.json', {}],
  ['harbor', 'harbor-pull-cloudevents.json', { 'content-type': 'application/cloudevents+json' }],
  ['github', 'github-package-published.json', { 'x-github-event': 'package' }],
  ['github', 'github-package-published.json', {}],
  ['github', 'github-registry-package-published.json', { 'x-github-event': 'registry_package' }],
  ['quay', 'quay-push.json', {}],
  ['artifactory', 'artifactory-docker-pushed.json', {}],
];

const REPLACEMENTS: unknown[] = [null, true, 0, -1.5, '', 'x', 'UPPER/Case:tag', [], [1, 'a'], {}, { a: [] }];

type Path = (string | number)[];
function paths(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (prefix.length > 0) out.push(prefix);
  if (Array.isArray(value)) for (const [i, v] of value.entries()) paths(v, [...prefix, i], out);
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

function variant(seed: unknown, path: Path, replacement: unknown | typeof DELETE): unknown {
  const body = structuredClone(seed) as Record<string | number, unknown>;
  let parent = body;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (replacement === DELETE) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = structuredClone(replacement);
  return body;
}
const DELETE = Symbol('delete');

describe('registry parsers under type confusion', () => {
  it.each(FIXTURES)(
    '%s parser answers or refuses with a ValidationError for every retyped node of %s',
    (type, file, headers) => {
      const seed = registryFixture(file);
      const registry = registryEntry(type);
      const unexpected: string[] = [];
      let cases = 0;
      for (const path of paths(seed)) {
        for (const replacement of [...REPLACEMENTS, DELETE]) {
          const body = variant(seed, path, replacement);
          cases++;
          try {
            PARSERS[type]({ body, headers, rawBody: Buffer.from(JSON.stringify(body)), registry });
          } catch (err) {
            if (!(err instanceof AppError && err.code === 'VALIDATION_FAILED')) {
              unexpected.push(`${path.join('.')} = ${String(replacement)}: ${(err as Error).message}`);
            }
          }
        }
      }
      expect(cases).toBeGreaterThan(10);
      expect(unexpected.slice(0, 10)).toEqual([]);
    },
  );

  it('refuses or ignores a GitHub package whose ecosystem or package_type is not a string, never a TypeError', () => {
    const body = registryFixture<Record<string, Record<string, unknown>>>('github-package-published.json');
    body.package!.ecosystem = [];
    body.package!.package_type = { name: 'container' };
    const registry = registryEntry('github');
    let outcome: unknown;
    try {
      outcome = PARSERS.github({ body, headers: { 'x-github-event': 'package' }, registry });
    } catch (err) {
      outcome = err;
    }
    expect(outcome instanceof TypeError).toBe(false);
  });
});
