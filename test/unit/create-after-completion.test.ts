import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ActivityLog } from '../../src/agents/activity-log.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { AgentService } from '../../src/agents/agent-service.js';
import type { ClusterProfile } from '../../src/agents/profiles.js';
import type { AgentRecord } from '../../src/backends/port.js';
import { CLUSTER, job, PROFILE } from '../support/gocd-bodies.js';
import { MemoryBackend, singleBackend } from '../support/memory-backend.js';

// Regression (found by the soak, bench/soak.bench.ts): a create-agent that GoCD sent while the job was waiting, but
// that was processed only after the job had run and completed (it was queued behind another create-agent of the
// same job, its ECS calls throttled), found no live agent and launched a second one for the finished job — never
// assigned, never completed, leaked until the registration timeout. A job id is never run twice (GoCD gives a
// rescheduled job a new id), so once its job-completion was handled, no create-agent for it may launch.

/** A backend whose next `list` waits until released, like an ECS listing stuck in throttling retries. */
class GatedBackend extends MemoryBackend {
  private gate: Promise<void> | undefined;
  private release: (() => void) | undefined;
  listing: Promise<void> | undefined;
  private entered: (() => void) | undefined;

  holdNextList(): () => void {
    this.gate = new Promise((resolve) => {
      this.release = resolve;
    });
    this.listing = new Promise((resolve) => {
      this.entered = resolve;
    });
    return () => this.release?.();
  }

  override async list(cluster: ClusterProfile): Promise<AgentRecord[]> {
    const gate = this.gate;
    if (gate) {
      this.gate = undefined;
      this.entered?.();
      await gate;
    }
    return super.list(cluster);
  }
}

function setup() {
  const backend = new GatedBackend();
  const service = new AgentService({
    backends: singleBackend(backend),
    activity: new ActivityLog(),
    logger: pino({ level: 'silent' }),
  });
  return { backend, service };
}

const create = (jobId: number) => ({
  autoRegisterKey: `k-${Math.random()}`,
  job: job(jobId),
  clusterProperties: CLUSTER,
  profileProperties: PROFILE,
});
const completion = (jobId: number) => ({
  elasticAgentId: agentIdFor(CLUSTER.cluster_id, jobId),
  job: job(jobId),
  clusterProperties: CLUSTER,
  agents: [],
});

describe('create-agent for a job whose completion was already handled', () => {
  it('launches nothing when it arrives after job-completion', async () => {
    const { backend, service } = setup();
    expect((await service.createAgent(create(41))).kind).toBe('launched');
    await service.jobCompleted(completion(41));
    expect(backend.agents.map((a) => a.status)).toEqual(['stopped']);
    const late = await service.createAgent(create(41));
    expect(late.kind).not.toBe('launched');
    expect(backend.agents).toHaveLength(1);
    // Other jobs are not affected.
    expect((await service.createAgent(create(42))).kind).toBe('launched');
  });

  it('launches nothing when job-completion lands while it is still listing', async () => {
    const { backend, service } = setup();
    expect((await service.createAgent(create(43))).kind).toBe('launched');
    const release = backend.holdNextList();
    const stale = service.createAgent(create(43));
    await backend.listing;
    const completed = service.jobCompleted(completion(43));
    await new Promise((resolve) => setTimeout(resolve, 20)); // time enough for an unsynchronised completion to stop it
    release();
    await Promise.all([stale, completed]);
    expect(backend.agents).toHaveLength(1);
    expect(backend.agents[0]!.status).toBe('stopped');
  });

  it('still launches again after a failed launch (no completion was sent)', async () => {
    const { backend, service } = setup();
    backend.failLaunch = 'RESOURCE:MEMORY';
    expect((await service.createAgent(create(44))).kind).toBe('failed');
    backend.failLaunch = undefined;
    expect((await service.createAgent(create(44))).kind).toBe('launched');
  });
});
