import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';

// migrate-config has one rule and two implementations: this service, and the forwarder, which answers it itself
// while GoCD loads the plugin (MigrateConfigRule). Both run this table.
const table = JSON.parse(readFileSync(new URL('../fixtures/migrate-config-cases.json', import.meta.url), 'utf8')) as {
  cases: { name: string; request: unknown; reply: unknown }[];
};

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('migrate-config, the table shared with the forwarder', () => {
  it.each(table.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/gocd/requests/cd.go.elastic-agent.migrate-config',
      headers: t.auth,
      payload: c.request === null ? '' : JSON.stringify(c.request),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(c.reply);
  });
});
