import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../support/browser.js';
import { CLUSTER } from '../support/gocd-bodies.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const ok = chromiumAvailable();
const PASSWORD = 'operator-read-only-0123456789';

describe.skipIf(!ok)('/status opened by an operator in a real browser', () => {
  let browser: Browser;
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    browser = await launchChromium();
    t = await createTestApp({ env: { SCALER_STATUS_PASSWORD: PASSWORD } });
    await t.gocd('server-ping', { all_cluster_profile_properties: [CLUSTER], agents: [] });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/status`;
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('makes the browser ask for a login without the credential (headless, with none to give, it gives up)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const challenges: string[] = [];
    page.on('response', (r) => challenges.push(r.headers()['www-authenticate'] ?? ''));
    // Chromium answers a Basic challenge by asking for credentials; a headless page has none to offer, so the
    // navigation ends with this error instead of showing the 401 body (as it would for a page without a challenge).
    await expect(page.goto(url)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    expect(challenges.join(' ')).toMatch(/Basic realm="gocd-agent-scaler status"/);
    await context.close();
  });

  it('shows the cluster status page with the operator username and password', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'operator', password: PASSWORD } });
    const page = await context.newPage();
    const blocked: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') blocked.push(m.text());
    });
    const res = await page.goto(url);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toBe('gocd-agent-scaler status');
    expect(await page.innerText('body')).toContain(`Cluster profile ${CLUSTER.cluster_id}`);
    expect(blocked, 'nothing the page needs is refused by its Content-Security-Policy').toEqual([]);
    await context.close();
  });

  it('is refused with a wrong password', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'operator', password: `${PASSWORD}x` } });
    const page = await context.newPage();
    const res = await page.goto(url);
    expect(res?.status()).toBe(401);
    await context.close();
  });
});
