import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../support/browser.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const ok = chromiumAvailable();

describe.skipIf(!ok)('the API documents in a real browser', () => {
  let browser: Browser;
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    browser = await launchChromium();
    t = await createTestApp();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows /openapi.yaml as text instead of downloading it', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const downloads: string[] = [];
    page.on('download', (d) => downloads.push(d.suggestedFilename()));
    const res = await page.goto(`${base}/openapi.yaml`);
    expect(res?.status()).toBe(200);
    expect(downloads).toEqual([]);
    expect(await page.innerText('body')).toMatch(/^openapi: 3\.1\.0/);
    await context.close();
  });

  it('renders /docs with its examples and opens a schema, under the page policy (no script needed)', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${base}/docs`);
    const section = page.locator('#postRegistryEventWithPathToken');
    expect(await section.innerText()).toContain('Authentication: the last path segment');
    const summary = section.locator('summary', { hasText: 'RegistryAck' }).first();
    await summary.click();
    expect(await section.locator('details[open] pre').first().innerText()).toContain('"pipelines"');
    expect(await page.locator('pre.ex').count()).toBeGreaterThan(10);
    expect(errors).toEqual([]);
    await page.close();
  });
});
