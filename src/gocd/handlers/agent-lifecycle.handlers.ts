import { shouldAssignWork } from '../../agents/agent-id.js';
import type { AgentService, CreateAgentInput } from '../../agents/agent-service.js';
import type { HealthMessage } from '../../agents/notices.js';
import type { UserNotices } from '../../agents/request-notices.js';
import type { Logger } from '../../logger.js';
import type { CreateAgentMessage, JobCompletionMessage, ServerPingMessage } from '../messages.js';

/**
 * The runtime messages: create-agent, should-assign-work, server-ping, job-completion, cluster-profile-changed.
 * create-agent, server-ping and job-completion answer with what the forwarder is to do through GoCD's application
 * accessor (openapi.yaml `PluginWorkReply`): `agent_actions`, and `console` / `health` notices for GoCD users. GoCD
 * ignores the bodies of these three; the forwarder answers it `{}` once that work is done.
 */
/**
 * Every current server-health message that belongs to no cluster profile (registry triggers), by topic, read from
 * the shared store at each server-ping: the set replaces the previous one.
 */
export type GeneralHealth = () => Promise<Record<string, HealthMessage>>;

export function agentLifecycleHandlers(
  agents: AgentService,
  logger: Logger,
  notices: UserNotices,
  generalHealth: GeneralHealth = async () => ({}),
) {
  return {
    'cd.go.elastic-agent.create-agent': async (body: CreateAgentMessage) => {
      const input: CreateAgentInput = {
        autoRegisterKey: body.auto_register_key,
        environment: body.environment ?? undefined,
        job: body.job_identifier,
        clusterProperties: body.cluster_profile_properties,
        profileProperties: body.elastic_agent_profile_properties,
      };
      const result = await agents.createAgent(input);
      const told = notices.forRequest();
      told.createAgent(input, result);
      return told.settle();
    },
    // Pure and total: GoCD calls it inside its locked assignment loop. The forwarder answers it locally too.
    'cd.go.elastic-agent.should-assign-work': (body: unknown) => shouldAssignWork(body),
    'cd.go.elastic-agent.server-ping': async (body: ServerPingMessage) => {
      const told = notices.forRequest(body.agents);
      const actions = await agents.serverPing(body.all_cluster_profile_properties, body.agents, told);
      told.serverPing(body.all_cluster_profile_properties, await generalHealth());
      return { agent_actions: actions, ...(await told.settle(true)) };
    },
    'cd.go.elastic-agent.job-completion': async (body: JobCompletionMessage) => {
      const told = notices.forRequest(body.agents);
      const actions = await agents.jobCompleted({
        elasticAgentId: body.elastic_agent_id,
        job: body.job_identifier,
        clusterProperties: body.cluster_profile_properties,
        agents: body.agents,
        events: told,
      });
      return { agent_actions: actions, ...(await told.settle()) };
    },
    'cd.go.elastic-agent.cluster-profile-changed': (body: { status: string }) => {
      // Nothing to do: agents are found by cluster id on every call, and an edited profile keeps its cluster_id.
      logger.info({ status: body.status }, 'cluster profile changed');
      return {};
    },
  } as const;
}
