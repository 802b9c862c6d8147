import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import type { ClusterProfile } from '../../src/agents/profiles.js';
import { GOCD_REQUEST_DEADLINE_MS } from '../../src/agents/request-deadline.js';
import type { AgentRecord, LaunchOutcome, LaunchRequest, StopReport } from '../../src/backends/port.js';
import { createServices } from '../../src/composition.js';
import { parseConfig } from '../../src/config/config-loader.js';
import { CLUSTER, job, PROFILE } from '../support/gocd-bodies.js';
import { MemoryBackend, singleBackend } from '../support/memory-backend.js';

// The forwarder gives up on a request after 30 s (gocd-plugin ScalerClient.REQUEST_DEADLINE) and its reply — with the
// console lines already marked told — is lost. The process composition used to pass no deadline, so a launch could
// wait 5 minutes for its pacer turn and a job-completion's StopTask as long. Now every create-agent and
// job-completion carries one deadline from its start, well inside those 30 s.

/** Records the deadline each backend call was given. */
class DeadlineRecorder extends MemoryBackend {
  readonly seen: { call: string; deadline: number | undefined }[] = [];

  override async launch(request: LaunchRequest): Promise<LaunchOutcome> {
    this.seen.push({ call: 'launch', deadline: request.deadline });
    return super.launch(request);
  }

  override async list(cluster: ClusterProfile, deadline?: number): Promise<AgentRecord[]> {
    this.seen.push({ call: 'list', deadline });
    return super.list(cluster);
  }

  override async stop(
    cluster: ClusterProfile,
    agents: readonly AgentRecord[],
    reason: string,
    deadline?: number,
  ): Promise<StopReport | undefined> {
    this.seen.push({ call: 'stop', deadline });
    return super.stop(cluster, agents, reason);
  }
}

describe('the process composition', () => {
  it("gives create-agent and job-completion one deadline, GOCD_REQUEST_DEADLINE_MS from their start, inside the forwarder's 30 s", async () => {
    expect(GOCD_REQUEST_DEADLINE_MS).toBeLessThanOrEqual(20_000);
    const backend = new DeadlineRecorder();
    const { config } = parseConfig('', 'test', { env: { SCALER_FORWARDER_TOKEN: 'test-forwarder-token-0123' } });
    const services = await createServices(config, pino({ level: 'silent' }), { backends: singleBackend(backend) });

    let before = Date.now();
    const created = await services.agents.createAgent({
      autoRegisterKey: 'k',
      job: job(1),
      clusterProperties: CLUSTER,
      profileProperties: PROFILE,
    });
    let after = Date.now();
    expect(created.kind).toBe('launched');
    expect(backend.seen.map((s) => s.call)).toEqual(['list', 'launch']);
    for (const { deadline } of backend.seen) {
      expect(deadline).toBeGreaterThanOrEqual(before + GOCD_REQUEST_DEADLINE_MS);
      expect(deadline).toBeLessThanOrEqual(after + GOCD_REQUEST_DEADLINE_MS);
    }

    backend.seen.length = 0;
    before = Date.now();
    // An agent this process does not know (launched elsewhere): job-completion lists, then stops, both bounded.
    backend.seed({ clusterId: 'test' } as ClusterProfile, 2, agentIdFor('test', 2), 1);
    await services.agents.jobCompleted({
      elasticAgentId: agentIdFor('test', 2),
      job: job(2),
      clusterProperties: CLUSTER,
    });
    after = Date.now();
    expect(backend.seen.map((s) => s.call)).toEqual(['list', 'stop']);
    for (const { deadline } of backend.seen) {
      expect(deadline).toBeGreaterThanOrEqual(before + GOCD_REQUEST_DEADLINE_MS);
      expect(deadline).toBeLessThanOrEqual(after + GOCD_REQUEST_DEADLINE_MS);
    }
    await services.registry.close();
  });
});
