import type { AgentService } from '../agents/agent-service.js';
import type { Logger } from '../logger.js';
import { launchUntil, QUEUED_LAUNCH_WAIT_MS } from '../main/lambda-composition.js';
import type { DeferredLaunch } from './deferred-launch.js';
import { runInScope } from './invocation-scope.js';
import type { LambdaContext } from './lambda-events.js';

/**
 * Runs a create-agent from the retry queue: the same create-agent as GoCD's (the job-completed mark, the fleet view
 * and the RunTask client token all apply again), in a `queue` scope that carries the deferral's attempt and its own
 * launch budget. A launch ECS still throttles goes back to the queue with a longer delay; any other outcome is final
 * here (reported like a create-agent), so the message is done.
 */
export function queuedLaunch(agents: AgentService, logger: Logger, now: () => number = Date.now) {
  return async (message: DeferredLaunch, context: LambdaContext): Promise<void> => {
    const t = now();
    const remaining = context.getRemainingTimeInMillis?.() ?? QUEUED_LAUNCH_WAIT_MS + 15_000;
    const result = await runInScope(
      {
        kind: 'queue',
        retryUntil: t,
        firstAttemptAt: message.firstAttemptAt,
        attempt: message.attempt,
        launchUntil: launchUntil(t, remaining, QUEUED_LAUNCH_WAIT_MS),
      },
      () => agents.createAgent(message.input),
    );
    logger.info(
      { jobId: message.input.job.job_id, attempt: message.attempt, outcome: result.kind },
      'deferred create-agent retried',
    );
  };
}
