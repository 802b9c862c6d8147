import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AgentRecord, LaunchOutcome, LaunchRequest, StopReport } from '../../src/agents/agent-backend.port.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import type { ClusterProfile } from '../../src/agents/profiles.js';
import { GOCD_REQUEST_DEADLINE_MS } from '../../src/agents/request-deadline.js';
import { parseConfig } from '../../src/config/config-text.js';
import type { GocdRequestContext } from '../../src/gocd/messages.js';
import { createServices } from '../../src/main/composition.js';
import { CLUSTER, createAgentBody, job, PROFILE } from '../support/gocd-bodies.js';
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

/** The process's services over `backend`, and its GoCD handlers called as the process's routes call them. */
async function processOver(backend: DeadlineRecorder) {
  const { config } = parseConfig('', 'test', { env: { SCALER_FORWARDER_TOKEN: 'test-forwarder-token-0123' } });
  const services = await createServices(config, pino({ level: 'silent' }), { backends: singleBackend(backend) });
  const createAgent = (jobId: number, context: GocdRequestContext = {}) =>
    services.gocd['cd.go.elastic-agent.create-agent'](
      createAgentBody(jobId) as Parameters<(typeof services.gocd)['cd.go.elastic-agent.create-agent']>[0],
      context,
    );
  const jobCompletion = (jobId: number, context: GocdRequestContext = {}) =>
    services.gocd['cd.go.elastic-agent.job-completion'](
      {
        elastic_agent_id: agentIdFor('test', jobId),
        job_identifier: job(jobId),
        cluster_profile_properties: CLUSTER,
        elastic_agent_profile_properties: PROFILE,
      },
      context,
    );
  return { services, createAgent, jobCompletion };
}

describe('the process composition', () => {
  it("gives create-agent and job-completion one deadline, GOCD_REQUEST_DEADLINE_MS from their start, inside the forwarder's 30 s", async () => {
    expect(GOCD_REQUEST_DEADLINE_MS).toBeLessThanOrEqual(20_000);
    const backend = new DeadlineRecorder();
    const { services, createAgent, jobCompletion } = await processOver(backend);

    let before = Date.now();
    await createAgent(1);
    let after = Date.now();
    expect(backend.agents.map((a) => a.jobId)).toEqual([1]);
    expect(backend.seen.map((s) => s.call)).toEqual(['list', 'launch']);
    for (const { deadline } of backend.seen) {
      expect(deadline).toBeGreaterThanOrEqual(before + GOCD_REQUEST_DEADLINE_MS);
      expect(deadline).toBeLessThanOrEqual(after + GOCD_REQUEST_DEADLINE_MS);
    }

    backend.seen.length = 0;
    before = Date.now();
    // An agent this process does not know (launched elsewhere): job-completion lists, then stops, both bounded.
    backend.seed({ clusterId: 'test' } as ClusterProfile, 2, agentIdFor('test', 2), 1);
    await jobCompletion(2);
    after = Date.now();
    expect(backend.seen.map((s) => s.call)).toEqual(['list', 'stop']);
    for (const { deadline } of backend.seen) {
      expect(deadline).toBeGreaterThanOrEqual(before + GOCD_REQUEST_DEADLINE_MS);
      expect(deadline).toBeLessThanOrEqual(after + GOCD_REQUEST_DEADLINE_MS);
    }
    await services.registry.close();
  });

  it("lets a request's own deadline (a Lambda invocation's budget) replace it, for job-completion too", async () => {
    const backend = new DeadlineRecorder();
    const { services, createAgent, jobCompletion } = await processOver(backend);
    const budget = Date.now() + 3_000;
    await createAgent(1, { launch: { deadline: budget } });
    backend.seed({ clusterId: 'test' } as ClusterProfile, 2, agentIdFor('test', 2), 1);
    await jobCompletion(2, { launch: { deadline: budget } });
    expect(backend.seen).toEqual([
      { call: 'list', deadline: budget },
      { call: 'launch', deadline: budget },
      { call: 'list', deadline: budget },
      { call: 'stop', deadline: budget },
    ]);
    await services.registry.close();
  });
});
