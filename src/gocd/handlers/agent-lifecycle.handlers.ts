import { shouldAssignWork } from '../../agents/agent-id.js';
import type { AgentService } from '../../agents/agent-service.js';
import type { Logger } from '../../logger.js';
import type { CreateAgentMessage, JobCompletionMessage, ServerPingMessage } from '../messages.js';

/** The runtime messages: create-agent, should-assign-work, server-ping, job-completion, cluster-profile-changed. */
export function agentLifecycleHandlers(agents: AgentService, logger: Logger) {
  return {
    'cd.go.elastic-agent.create-agent': async (body: CreateAgentMessage) => {
      await agents.createAgent({
        autoRegisterKey: body.auto_register_key,
        environment: body.environment ?? undefined,
        job: body.job_identifier,
        clusterProperties: body.cluster_profile_properties,
        profileProperties: body.elastic_agent_profile_properties,
      });
      // GoCD ignores this body; outcomes are in the logs and the status report.
      return {};
    },
    // Pure and total: GoCD calls it inside its locked assignment loop. The forwarder answers it locally too.
    'cd.go.elastic-agent.should-assign-work': (body: unknown) => shouldAssignWork(body),
    'cd.go.elastic-agent.server-ping': async (body: ServerPingMessage) => ({
      agent_actions: await agents.serverPing(body.all_cluster_profile_properties, body.agents),
    }),
    'cd.go.elastic-agent.job-completion': async (body: JobCompletionMessage) => ({
      agent_actions: await agents.jobCompleted({
        elasticAgentId: body.elastic_agent_id,
        job: body.job_identifier,
        clusterProperties: body.cluster_profile_properties,
        agents: body.agents,
      }),
    }),
    'cd.go.elastic-agent.cluster-profile-changed': (body: { status: string }) => {
      // Nothing to do: agents are found by cluster id on every call, and an edited profile keeps its cluster_id.
      logger.info({ status: body.status }, 'cluster profile changed');
      return {};
    },
  } as const;
}
