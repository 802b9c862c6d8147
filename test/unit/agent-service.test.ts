import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ActivityLog } from '../../src/agents/activity-log.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { AgentService } from '../../src/agents/agent-service.js';
import { renderClusterSection } from '../../src/gocd/status-report.view.js';
import { CLUSTER, job, PROFILE } from '../support/gocd-bodies.js';
import { MemoryBackend, singleBackend } from '../support/memory-backend.js';
import { parseClusterProfile, profiles, viaEdge } from '../support/profiles.js';

function setup(now = () => new Date()) {
  const backend = new MemoryBackend(now);
  const activity = new ActivityLog(500, now);
  const service = viaEdge(
    new AgentService({
      backends: singleBackend(backend),
      profiles,
      activity,
      logger: pino({ level: 'silent' }),
      now,
    }),
  );
  return { backend, activity, service };
}

const create = (jobId: number, key = `k-${Math.random()}`) => ({
  autoRegisterKey: key,
  job: job(jobId),
  clusterProperties: CLUSTER,
  profileProperties: PROFILE,
});

describe('AgentService', () => {
  it('50 concurrent create-agent requests for one job (a fresh key each, as GoCD sends) launch exactly one agent', async () => {
    const { backend, service } = setup();
    const results = await Promise.all(Array.from({ length: 50 }, () => service.createAgent(create(1))));
    expect(backend.agents).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'launched')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'existing')).toHaveLength(49);
  });

  it('concurrent create-agent requests for many jobs never exceed max_agents', async () => {
    const { backend, service } = setup();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => service.createAgent(create(100 + i))));
    expect(backend.agents).toHaveLength(3);
    expect(results.filter((r) => r.kind === 'waiting')).toHaveLength(7);
  });

  it('a failed launch is reported, and a later create-agent launches', async () => {
    const { backend, service, activity } = setup();
    backend.failLaunch = 'RESOURCE:MEMORY';
    expect(await service.createAgent(create(2))).toEqual({ kind: 'failed', reason: 'RESOURCE:MEMORY' });
    expect(activity.waitingJobs()[0]).toMatchObject({ jobId: 2, reason: 'RESOURCE:MEMORY' });
    backend.failLaunch = undefined;
    expect((await service.createAgent(create(2))).kind).toBe('launched');
    expect(activity.waitingJobs()).toEqual([]);
  });

  it('a listing failure launches nothing and is reported, never thrown at GoCD', async () => {
    const { backend, service, activity } = setup();
    backend.failList = true;
    const result = await service.createAgent(create(3));
    expect(result).toMatchObject({ kind: 'error', reason: 'listing failed (test)' });
    expect(backend.launches).toHaveLength(0);
    expect(activity.recent({ kinds: ['launch-failed'] })).toHaveLength(1);
  });

  it('job-completion keeps the agent when the cluster keeps idle agents', async () => {
    const { backend, service } = setup();
    await service.createAgent({ ...create(4), clusterProperties: { ...CLUSTER, idle_timeout_minutes: '5' } });
    const actions = await service.jobCompleted({
      elasticAgentId: agentIdFor('test', 4),
      job: job(4),
      clusterProperties: { ...CLUSTER, idle_timeout_minutes: '5' },
    });
    expect(actions).toEqual({ disable: [], delete: [] });
    expect(backend.stops).toEqual([]);
  });

  it('job-completion only disables (does not delete) when the stop fails; server-ping finishes later', async () => {
    const { backend, service } = setup();
    await service.createAgent(create(5));
    const realStop = backend.stop.bind(backend);
    backend.stop = async () => {
      throw new Error('StopTask failed (test)');
    };
    const id = agentIdFor('test', 5);
    expect(await service.jobCompleted({ elasticAgentId: id, job: job(5), clusterProperties: CLUSTER })).toEqual({
      disable: [id],
      delete: [],
    });
    backend.stop = realStop;
    const actions = await service.serverPing(
      [CLUSTER],
      [{ agent_id: id, agent_state: 'Idle', build_state: 'Idle', config_state: 'Disabled' }],
    );
    expect(actions).toEqual({ disable: [], delete: [id] });
    expect(backend.stops.map((s) => s.agentId)).toEqual([id]);
  });

  it('server-ping deletes nothing when one cluster cannot be listed', async () => {
    const { backend, service } = setup();
    backend.failList = true;
    const actions = await service.serverPing(
      [CLUSTER, { go_server_url: 'https://g/go', cluster_id: 'other' }],
      [{ agent_id: 'ea-77-0000abcd', agent_state: 'Building', build_state: 'Building', config_state: 'Enabled' }],
    );
    expect(actions).toEqual({ disable: [], delete: [] });
  });

  it('server-ping stops never-registered agents after registration_timeout and leaves younger ones', async () => {
    let t = new Date('2026-11-23T10:00:00Z').getTime();
    const { backend, service, activity } = setup(() => new Date(t));
    const cluster = parseClusterProfile(CLUSTER);
    backend.seed(cluster, 1, agentIdFor('test', 1), 11);
    backend.seed(cluster, 2, agentIdFor('test', 2), 2);
    await service.serverPing([CLUSTER], []);
    expect(backend.stops.map((s) => s.agentId)).toEqual([agentIdFor('test', 1)]);
    expect(backend.stops[0]?.reason).toMatch(/did not register with GoCD within 10 minutes/);
    expect(activity.recent({ kinds: ['reaped'] })).toHaveLength(1);
    t += 9 * 60_000;
    await service.serverPing([CLUSTER], []);
    expect(backend.stops.map((s) => s.agentId)).toEqual([agentIdFor('test', 1), agentIdFor('test', 2)]);
  });
});

describe('AgentService cap bookkeeping', () => {
  it('counts a launch the listing does not show yet, and frees the slot when the agent stops', async () => {
    const { backend, service } = setup();
    // An eventually consistent listing: the first launch is invisible to the next list call.
    const realList = backend.list.bind(backend);
    let hide = true;
    backend.list = async (c) => (hide ? [] : realList(c));
    const cap1 = { ...CLUSTER, max_agents: '1' };
    expect((await service.createAgent({ ...create(1), clusterProperties: cap1 })).kind).toBe('launched');
    expect((await service.createAgent({ ...create(2), clusterProperties: cap1 })).kind).toBe('waiting');
    hide = false;
    await service.jobCompleted({ elasticAgentId: agentIdFor('test', 1), job: job(1), clusterProperties: cap1 });
    expect((await service.createAgent({ ...create(2), clusterProperties: cap1 })).kind).toBe('launched');
    expect(backend.agents.filter((a) => a.status !== 'stopped')).toHaveLength(1);
  });
});

describe("AgentService and the operator policy's ECS scope", () => {
  it("refuses a cluster outside the policy (the deployment's own cluster and region) before any backend call, and both status reports say why", async () => {
    const backend = new MemoryBackend();
    let calls = 0;
    const activity = new ActivityLog();
    const service = viaEdge(
      new AgentService({
        backends: {
          forCluster: async () => {
            calls++;
            return backend;
          },
        },
        profiles,
        activity,
        logger: pino({ level: 'silent' }),
        policy: {
          docker: { engines: ['local'] },
          ecs: { clusters: ['gocd-agents'], regions: ['eu-west-1'] },
          allow: { privileged: false, socketMount: false, hostNetwork: false, capabilities: [] },
          warmPool: { maxPerProfile: 0, maxPerCluster: 0 },
        },
      }),
    );
    const outside = { ...CLUSTER, cluster: 'team-cluster', region: 'eu-west-1' };
    const result = await service.createAgent({ ...create(60), clusterProperties: outside });
    expect(result).toEqual({
      kind: 'refused',
      reason: expect.stringContaining(
        "ECS cluster 'team-cluster' is not allowed by the operator policy (policy.ecs.clusters: gocd-agents)",
      ),
    });
    expect(calls).toBe(0);
    const report = await service.clusterReport(outside);
    expect(report.policyProblem).toContain("'team-cluster' is not allowed by the operator policy");
    expect(report.waiting[0]?.reason).toContain('policy.ecs.clusters');
    expect(calls).toBe(0);
    const html = renderClusterSection(report);
    expect(html).toContain('Refused by the operator policy: ECS cluster &#39;team-cluster&#39; is not allowed');

    const inside = { ...CLUSTER, cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/gocd-agents' };
    expect((await service.createAgent({ ...create(61), clusterProperties: inside })).kind).toBe('launched');
    const otherRegion = { ...CLUSTER, cluster: 'arn:aws:ecs:us-east-2:123456789012:cluster/gocd-agents' };
    expect(await service.createAgent({ ...create(62), clusterProperties: otherRegion })).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining("region 'us-east-2' is not allowed by the operator policy (policy.ecs.regions"),
    });
    // A cluster list binds clusters reached through assume_role_arn too: the operator names what may be used.
    const crossAccount = { ...outside, assume_role_arn: 'arn:aws:iam::210987654321:role/ecs' };
    expect(await service.createAgent({ ...create(63), clusterProperties: crossAccount })).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('policy.ecs.clusters'),
    });
  });
});
