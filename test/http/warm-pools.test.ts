import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePoolAgentId } from '../../src/agents/warm-pool-id.js';
import { job } from '../support/gocd-bodies.js';
import { registryFixtureText } from '../support/registry-fixtures.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// Warm pools through the app: a registry push that moves the tag a warm pool runs recycles that pool's waiting agents,
// through the wiring of the composition root (registry/ tells of every push; agents/ listens), also when no pipeline
// subscribes to the image; and the pool's metrics (hits, misses, the forwarder's job waits).

const SECRET = 'distribution-hook-secret-0123456789';
const V1 = 'application/vnd.docker.distribution.events.v1+json';
const CLUSTER = { go_server_url: 'https://gocd.example.com/go', cluster_id: 'recycle', max_agents: '10' };
// The image of test/fixtures/registry/distribution-manifest-push.json (registry.example.com/backends/database-x:1.2.3).
const PROFILE = { image: 'registry.example.com/backends/database-x:1.2.3', warm_pool_size: '2' };

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({
    yaml: `registries:\n  - { name: docker, type: distribution, host: registry.example.com, secret: ${SECRET} }\n`,
  });
});
afterEach(async () => {
  await t.close();
});

const livePool = () => t.backend.agents.filter((a) => a.status !== 'stopped' && a.pool !== undefined);
const idle = (id: string) => ({ agent_id: id, agent_state: 'Idle', build_state: 'Idle', config_state: 'Enabled' });
const ping = async (agents: unknown[]) => {
  const res = await t.gocd('server-ping', {
    all_cluster_profile_properties: [CLUSTER],
    agents,
    forwarder_instance: '5f3a9c01',
  });
  expect(res.statusCode).toBe(200);
  return res.json() as { agent_actions: { disable: string[]; delete: string[] } };
};
const push = () =>
  t.app.inject({
    method: 'POST',
    url: '/registry/docker',
    payload: registryFixtureText('distribution-manifest-push.json'),
    headers: { authorization: `Bearer ${SECRET}`, 'content-type': V1 },
  });

describe('warm pools and registry pushes', () => {
  it("a push of the pool's image tag retires its waiting agents (unsubscribed image); a redelivery retires nothing more", async () => {
    await ping([]);
    const created = await t.gocd('create-agent', {
      auto_register_key: 'k',
      elastic_agent_profile_properties: PROFILE,
      cluster_profile_properties: CLUSTER,
      job_identifier: job(1),
    });
    expect(created.statusCode).toBe(200);
    const before = livePool().map((a) => a.agentId);
    expect(before).toHaveLength(2);
    expect((await push()).statusCode).toBeLessThan(300);
    const first = await ping(before.map(idle));
    expect(first.agent_actions.disable.filter((id) => parsePoolAgentId(id)).sort()).toEqual([...before].sort());
    const after = livePool()
      .map((a) => a.agentId)
      .filter((id) => !before.includes(id));
    expect(after).toHaveLength(2);
    // The same delivery again: the new pool agents stay.
    await push();
    const second = await ping(after.map(idle));
    expect(second.agent_actions.disable.filter((id) => after.includes(id))).toEqual([]);
  });
});

describe('warm pools: metrics', () => {
  it("counts pool hits and misses, and observes the forwarder's job waits by agent kind", async () => {
    await ping([]);
    const body = (id: number) => ({
      auto_register_key: 'k',
      elastic_agent_profile_properties: PROFILE,
      cluster_profile_properties: CLUSTER,
      job_identifier: job(id),
    });
    await t.gocd('create-agent', body(1)); // miss: the pool is empty
    await t.gocd('create-agent', body(2)); // hit
    const res = await t.gocd('server-ping', {
      all_cluster_profile_properties: [CLUSTER],
      agents: [],
      forwarder_instance: '5f3a9c01',
      job_waits: [
        { agent_id: livePool()[0]!.agentId, job_id: 2, wait_ms: 400, warm: true },
        { agent_id: 'ea-1-00000000', job_id: 1, wait_ms: 31_000, warm: false },
      ],
    });
    expect(res.statusCode).toBe(200);
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('gocd_agent_scaler_warm_pool_total{cluster_id="recycle",outcome="miss"} 1');
    expect(metrics.body).toContain('gocd_agent_scaler_warm_pool_total{cluster_id="recycle",outcome="hit"} 1');
    expect(metrics.body).toContain('gocd_agent_scaler_job_wait_seconds_bucket{le="0.5",agent="warm"} 1');
    expect(metrics.body).toContain('gocd_agent_scaler_job_wait_seconds_bucket{le="30",agent="own"} 0');
    expect(metrics.body).toContain('gocd_agent_scaler_job_wait_seconds_bucket{le="60",agent="own"} 1');
  });

  it('refuses a job_waits entry that is not a measurement (400 naming the field)', async () => {
    const res = await t.gocd('server-ping', {
      all_cluster_profile_properties: [CLUSTER],
      job_waits: [{ agent_id: 'ea-1-00000000', job_id: 1, wait_ms: -5, warm: false }],
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('job_waits');
  });
});

describe("warm pools: the forwarder's pooled profiles", () => {
  it('a service that never saw the profile’s create-agent (a restart, another Lambda container) fills the pool from warm_pools at server-ping', async () => {
    const res = await t.gocd('server-ping', {
      all_cluster_profile_properties: [CLUSTER],
      agents: [],
      forwarder_instance: '5f3a9c01',
      warm_pools: [
        {
          cluster_profile_properties: CLUSTER,
          elastic_agent_profile_properties: PROFILE,
          environment: 'prod',
          auto_register_key: 'the-servers-key',
        },
        // One that does not parse is skipped; the others still fill.
        { cluster_profile_properties: CLUSTER, elastic_agent_profile_properties: {}, auto_register_key: 'k' },
      ],
    });
    expect(res.statusCode).toBe(200);
    const pool = livePool();
    expect(pool).toHaveLength(2);
    for (const a of pool) {
      expect(a.env).toMatchObject({
        GO_EA_AUTO_REGISTER_KEY: 'the-servers-key',
        GO_EA_AUTO_REGISTER_ENVIRONMENT: 'prod',
        GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID: a.agentId,
      });
    }
    // And the key never reaches the logs.
    expect(t.logs.join('\n')).not.toContain('the-servers-key');
  });
});
