import { shouldAssignWork } from '../../agents/agent-id.js';
import type { AgentService } from '../../agents/agent-service.js';
import type { HealthMessage } from '../../agents/notices.js';
import type { UserNotices } from '../../agents/request-notices.js';
import type { Logger } from '../../logger.js';
import { createAgentInput, type GocdCommands } from '../commands.js';
import type {
  ClusterProfileChangedMessage,
  CreateAgentMessage,
  GocdRequestContext,
  JobCompletionMessage,
  ServerPingMessage,
} from '../messages.js';

/**
 * Every current server-health message that belongs to no cluster profile (registry triggers), by topic, read from
 * the shared store at each server-ping: the set replaces the previous one.
 */
export type GeneralHealth = () => Promise<Record<string, HealthMessage>>;

/**
 * The runtime messages: create-agent, should-assign-work, server-ping, job-completion, cluster-profile-changed.
 * create-agent, server-ping and job-completion answer with what the forwarder is to do through GoCD's application
 * accessor (openapi.yaml `PluginWorkReply`): `agent_actions`, and `console` / `health` notices for GoCD users. GoCD
 * ignores the bodies of these three; the forwarder answers it `{}` once that work is done.
 */
export function agentLifecycleHandlers(
  agents: AgentService,
  commands: GocdCommands,
  logger: Logger,
  notices: UserNotices,
  generalHealth: GeneralHealth = async () => ({}),
) {
  return {
    'cd.go.elastic-agent.create-agent': async (body: CreateAgentMessage, context: GocdRequestContext) => {
      const command = commands.createAgent(createAgentInput(body));
      const result = await agents.createAgent(command, context.launch);
      const told = notices.forRequest();
      told.createAgent(command, result);
      return told.settle();
    },
    // Pure and total: GoCD calls it inside its locked assignment loop. The forwarder answers it locally too.
    'cd.go.elastic-agent.should-assign-work': (body: unknown) => shouldAssignWork(body),
    'cd.go.elastic-agent.server-ping': async (body: ServerPingMessage) => {
      const command = commands.serverPing(body);
      const told = notices.forRequest(body.agents);
      const actions = await agents.serverPing(command, told);
      told.serverPing(command.clusters, await generalHealth());
      return { agent_actions: actions, ...(await told.settle(true)) };
    },
    'cd.go.elastic-agent.job-completion': async (body: JobCompletionMessage, context: GocdRequestContext) => {
      const told = notices.forRequest(body.agents);
      // The request's deadline (Lambda: the invocation's budget) bounds the stop too; default the service's own.
      const actions = await agents.jobCompleted(commands.jobCompletion(body), told, context.launch?.deadline);
      return { agent_actions: actions, ...(await told.settle()) };
    },
    'cd.go.elastic-agent.cluster-profile-changed': (body: ClusterProfileChangedMessage) => {
      // Nothing to do: agents are found by cluster id on every call, and an edited profile keeps its cluster_id.
      logger.info({ status: body.status }, 'cluster profile changed');
      return {};
    },
  } as const;
}
