import { agentIdFor } from '../../src/agents/agent-id.js';

/** A should-assign-work body (as GoCD sends it) whose answer is `true`, shared by the HTTP and Lambda benchmarks. */
export function shouldAssignBody(clusterId: string, jobId: number): string {
  return JSON.stringify({
    agent: {
      agent_id: agentIdFor(clusterId, jobId),
      agent_state: 'Idle',
      build_state: 'Idle',
      config_state: 'Enabled',
    },
    elastic_agent_profile_properties: { image: 'i' },
    cluster_profile_properties: { go_server_url: 'https://gocd.example.com/go', cluster_id: clusterId },
    job_identifier: {
      pipeline_name: 'p',
      pipeline_counter: 1,
      stage_name: 's',
      stage_counter: '1',
      job_name: 'j',
      job_id: jobId,
    },
  });
}
