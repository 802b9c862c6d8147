import type { AgentService } from '../agents/agent-service.js';
import type { GocdCommands } from '../gocd/commands.js';
import type { Logger } from '../logger.js';
import type { DeferredLaunch } from './deferred-launch.js';
import { queuedLaunchBudget } from './invocation-budget.js';
import type { LambdaContext } from './lambda-events.js';

/**
 * Runs a create-agent from the retry queue: read at the edge again (the message holds it as GoCD sent it), then the
 * same create-agent as GoCD's (the job-completed mark, the fleet view and the RunTask client token all apply again),
 * with the deferral's attempt and its own launch budget. A launch ECS still throttles goes back to the queue with a
 * longer delay; any other outcome is final here (reported like a create-agent), so the message is done.
 */
export function queuedLaunch(
  agents: AgentService,
  commands: GocdCommands,
  logger: Logger,
  now: () => number = Date.now,
) {
  return async (message: DeferredLaunch, context: LambdaContext): Promise<void> => {
    const budget = queuedLaunchBudget(message, context, now());
    const result = await agents.createAgent(commands.createAgent(message.input), budget);
    logger.info(
      { jobId: message.input.job.job_id, attempt: message.attempt, outcome: result.kind },
      'deferred create-agent retried',
    );
  };
}
