import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { chromiumAvailable, launchChromium } from '../support/browser.js';
import { CLUSTER, createAgentBody, job, PROFILE } from '../support/gocd-bodies.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const ok = chromiumAvailable();
const artifacts = join(import.meta.dirname, '..', 'artifacts');

describe.skipIf(!ok)('status reports in a real browser', () => {
  let browser: Browser;
  let t: TestApp;
  const cluster = { ...CLUSTER, max_agents: '3' };

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    browser = await launchChromium();
    t = await createTestApp();
    const post = (name: string, body: unknown) =>
      t.app.inject({
        method: 'POST',
        url: `/gocd/requests/cd.go.elastic-agent.${name}`,
        headers: t.auth,
        payload: JSON.stringify(body),
      });
    // Agents in every state: pending, running, stopping; a job over the cap; a failed launch; a reaped agent.
    for (const id of [11, 12, 13])
      await post('create-agent', createAgentBody(id, { cluster_profile_properties: cluster }));
    t.backend.agents[0]!.status = 'pending';
    t.backend.agents[2]!.status = 'stopping';
    await post('create-agent', createAgentBody(14, { cluster_profile_properties: cluster }));
    await post(
      'create-agent',
      createAgentBody(15, {
        cluster_profile_properties: cluster,
        elastic_agent_profile_properties: { ...PROFILE, docker_mode: 'privileged' },
      }),
    );
    // Job 13 completes (freeing its slot), then a launch fails; later 13's container shows up again as a leak.
    await post('job-completion', {
      elastic_agent_id: agentIdFor('test', 13),
      cluster_profile_properties: cluster,
      job_identifier: job(13),
    });
    t.backend.failLaunch = 'RESOURCE:MEMORY: no container instance has 2048 MiB free';
    await post('create-agent', createAgentBody(16, { cluster_profile_properties: cluster }));
    t.backend.failLaunch = undefined;
    t.backend.agents[2]!.status = 'running';
    t.backend.agents[2]!.createdAt = new Date(Date.now() - 30 * 60_000);
    await post('server-ping', { all_cluster_profile_properties: [cluster], agents: [] });
    await post('create-agent', createAgentBody(17, { cluster_profile_properties: cluster }));
    t.backend.agents.find((a) => a.jobId === 17)!.status = 'stopping';
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function show(name: string, view: string): Promise<string> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('data:') && r.url() !== 'about:blank') external.push(r.url());
    });
    await page.setContent(view, { waitUntil: 'load' });
    await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
    const text = await page.innerText('body');
    await page.close();
    expect(external, 'the report loads no external assets').toEqual([]);
    return text;
  }

  async function report(name: string, body: unknown): Promise<string> {
    const res = await t.app.inject({
      method: 'POST',
      url: `/gocd/requests/cd.go.elastic-agent.${name}`,
      headers: t.auth,
      payload: JSON.stringify(body),
    });
    expect(res.statusCode).toBe(200);
    return (res.json() as { view: string }).view;
  }

  it('the cluster report shows agents in every state, the waiting jobs and why, errors and reaping', async () => {
    const text = await show(
      'cluster-status-report',
      await report('cluster-status-report', { cluster_profile_properties: cluster }),
    );
    expect(text).toContain(agentIdFor('test', 11));
    expect(text).toContain(agentIdFor('test', 12));
    expect(text).toContain(agentIdFor('test', 17));
    for (const state of ['pending', 'running', 'stopping']) expect(text).toMatch(new RegExp(`\\b${state}\\b`));
    expect(text).toContain('3 / 3 agents');
    expect(text).toContain('Jobs waiting for an agent');
    expect(text).toContain('max_agents (3) reached');
    expect(text).toContain('docker_mode privileged needs allow_privileged=true');
    expect(text).toContain('RESOURCE:MEMORY: no container instance has 2048 MiB free');
    expect(text).toContain('did not register with GoCD within 10 minutes');
    expect(text).toContain('app/7/test/1/build');
  });

  it('the plugin report shows every cluster profile', async () => {
    const other = { go_server_url: 'https://gocd.example.com/go', cluster_id: 'other' };
    const text = await show(
      'plugin-status-report',
      await report('plugin-status-report', { all_cluster_profiles_properties: [cluster, other] }),
    );
    expect(text).toContain('Cluster profile test');
    expect(text).toContain('Cluster profile other');
    expect(text).toContain('no agents running');
  });

  it('the agent report shows the containers and the environment with secrets masked', async () => {
    const text = await show(
      'agent-status-report',
      await report('agent-status-report', { cluster_profile_properties: cluster, job_identifier: job(12) }),
    );
    expect(text).toContain(agentIdFor('test', 12));
    expect(text).toContain('GO_EA_SERVER_URL');
    expect(text).toContain('https://gocd.example.com/go');
    expect(text).toMatch(/GO_EA_AUTO_REGISTER_KEY\s+\*\*\*/);
    expect(text).not.toMatch(/key-12-/);
    expect(text).toContain('gocd/gocd-agent-debian-12:v25.1.0');
  });
});
