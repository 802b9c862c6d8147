import { exponentialDelay } from '../backoff.js';
import type { CreateAgentInput } from '../gocd/commands.js';

// The retry-queue message of a create-agent whose launch ECS throttled past the invocation's budget: in Lambda
// nothing runs after the answer, so the launch waits in the same SQS queue as deferred triggers and the function runs
// it again shortly. It carries the create-agent as GoCD sent it, auto-register key included (the agent needs it);
// the queue is encrypted at rest (SQS-managed keys) and the message is never logged.

/** Message type tag of a deferred launch on the retry queue. */
export const DEFERRED_LAUNCH_TYPE = 'gocd-agent-scaler/deferred-launch';

/** One create-agent waiting for ECS's RunTask bucket. */
export interface DeferredLaunch {
  type: typeof DEFERRED_LAUNCH_TYPE;
  input: CreateAgentInput;
  /** Epoch ms of the first attempt: after `DEFERRED_LAUNCH_WINDOW_MS` GoCD's own re-send takes over. */
  firstAttemptAt: number;
  /** 1 for the first deferral. */
  attempt: number;
}

/** How long a launch keeps being deferred: the same window as the process's own retry queue. */
export { DEFERRED_LAUNCH_WINDOW_MS } from '../agents/in-process-launch-deferrer.js';

/** The message's delay: ECS refills RunTask tokens within seconds, so 2 s doubling to at most 60 s. */
export function deferredLaunchDelaySeconds(attempt: number): number {
  return exponentialDelay({ baseMs: 2_000, capMs: 60_000 }, Math.max(1, attempt)) / 1000;
}

/** The deferred launch a message body holds, or undefined when it is something else. */
export function parseDeferredLaunch(body: unknown): DeferredLaunch | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const m = body as Partial<DeferredLaunch>;
  const input = m.input as Partial<CreateAgentInput> | undefined;
  if (m.type !== DEFERRED_LAUNCH_TYPE || !input || typeof input !== 'object') return undefined;
  if (typeof input.autoRegisterKey !== 'string' || !input.job || typeof input.job.job_id !== 'number') return undefined;
  if (typeof input.clusterProperties !== 'object' || typeof input.profileProperties !== 'object') return undefined;
  if (typeof m.firstAttemptAt !== 'number' || typeof m.attempt !== 'number') return undefined;
  return m as DeferredLaunch;
}
