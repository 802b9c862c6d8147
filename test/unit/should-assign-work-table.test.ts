import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shouldAssignWork } from '../../src/agents/agent-id.js';
import { fixture } from '../support/gocd-bodies.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * One case of the table shared with the forwarder's Java tests (gocd-plugin/src/test): `body` is a JSON value,
 * `raw` is request text as GoCD would hand it over (for numbers like 100.0 and text that is not JSON).
 */
interface ShouldAssignCase {
  name: string;
  body?: unknown;
  raw?: string;
  /** What the forwarder knows (pool cases): its instance id and the job each pool agent already took. */
  forwarder?: { instance: string; claims: Record<string, number> };
  expected: boolean;
}

const cases = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'should-assign-work-cases.json'), 'utf8'),
) as ShouldAssignCase[];

/** What the service's rule sees: the parsed body; text that is not JSON never reaches it, so it stands as absent. */
function input(c: ShouldAssignCase): unknown {
  if (c.raw === undefined) return c.body;
  try {
    return JSON.parse(c.raw);
  } catch {
    return undefined;
  }
}

describe('should-assign-work table shared with the forwarder plugin', () => {
  it('holds at least 15 uniquely named cases, each with exactly one of body or raw', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    for (const c of cases) {
      expect('body' in c !== 'raw' in c, c.name).toBe(true);
      expect(typeof c.expected, c.name).toBe('boolean');
    }
  });

  it('covers both answers and carries the real GoCD fixture verbatim', () => {
    expect(cases.some((c) => c.expected)).toBe(true);
    expect(cases.some((c) => !c.expected)).toBe(true);
    const real = cases.find((c) => c.name.startsWith('the real GoCD converter fixture'));
    expect(real?.body).toEqual(fixture('should-assign-work.json'));
    expect(real?.expected).toBe(false);
  });

  it('covers warm-pool agents: a match, a second job, a re-ask, another profile, an earlier forwarder instance', () => {
    const pool = cases.filter((c) => c.name.startsWith('pool:'));
    expect(pool.filter((c) => c.expected).length).toBeGreaterThanOrEqual(3);
    expect(pool.filter((c) => !c.expected).length).toBeGreaterThanOrEqual(6);
    expect(pool.some((c) => c.forwarder && Object.keys(c.forwarder.claims).length > 0 && !c.expected)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const f = c.forwarder;
    const forwarder = f && { instance: f.instance, claimedJob: (id: string) => f.claims[id] };
    expect(shouldAssignWork(input(c), forwarder)).toBe(c.expected);
  });
});

describe('should-assign-work table through the service route POST /gocd/requests/…should-assign-work', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  /** The request text as the forwarder would send it: `raw` verbatim, else the body serialised. */
  const text = (c: ShouldAssignCase): string => (c.raw !== undefined ? c.raw : JSON.stringify(c.body));
  const post = (c: ShouldAssignCase) =>
    t.app.inject({
      method: 'POST',
      url: '/gocd/requests/cd.go.elastic-agent.should-assign-work',
      headers: t.auth,
      payload: text(c),
    });

  // The route has no forwarder state: pool cases that need it are the forwarder's alone (its table run covers them).
  it.each(cases.filter((c) => !c.forwarder).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await post(c);
    // The bare literal, status 200: never an error inside GoCD's assignment loop — not even for text that is not
    // JSON (GoCD never sends it; the plugin answers it false locally, and so does the route).
    expect([res.statusCode, res.body]).toEqual([200, String(c.expected)]);
  });
});
