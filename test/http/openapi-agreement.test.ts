import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOCD_REQUEST_NAMES } from '../../src/gocd/request-names.js';
import { loadOpenApi, specRoutes } from '../../src/http/openapi.js';
import { VERSION } from '../../src/version.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
const registered: { method: string; url: string }[] = [];

beforeAll(async () => {
  t = await createTestApp();
  // Fastify lists routes through printRoutes as a tree (children indented under their prefix); rebuild full paths.
  const lines = t.app.printRoutes({ commonPrefix: false, includeHooks: false });
  const stack: { depth: number; path: string }[] = [];
  for (const line of lines.split('\n')) {
    const m = /^(.*?)[└├]── (\S+)(?: \(([A-Z, ]+)\))?/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length;
    while (stack.length && stack[stack.length - 1]!.depth >= depth) stack.pop();
    const path = (stack[stack.length - 1]?.path ?? '') + m[2]!;
    stack.push({ depth, path });
    for (const method of m[3]?.split(', ') ?? []) if (method !== 'HEAD') registered.push({ method, url: path });
  }
});
afterAll(async () => {
  await t.close();
});

describe('openapi.yaml and the routes agree', () => {
  it('every route the app registers is in the spec, and every spec route is registered', () => {
    const spec = specRoutes(loadOpenApi())
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    const routes = registered.map((r) => `${r.method} ${r.url}`).sort();
    expect(routes.length).toBeGreaterThan(0);
    expect(routes).toEqual(spec);
  });

  it('x-gocd-requests lists exactly the request names the service implements', () => {
    const listed = Object.keys(loadOpenApi().doc['x-gocd-requests'] as object).sort();
    expect(listed).toEqual([...GOCD_REQUEST_NAMES].sort());
  });

  it('the spec version is the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect((loadOpenApi().doc.info as { version: string }).version).toBe(pkg.version);
  });
});
