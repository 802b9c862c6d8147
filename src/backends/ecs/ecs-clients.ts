import { ECSClient } from '@aws-sdk/client-ecs';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import type { ClusterProfile } from '../../agents/profiles.js';

/** Counts ECS API attempts and throttles (the Prometheus adapter implements it). */
export interface EcsCallObserver {
  call(operation: string): void;
  throttled(operation: string): void;
}

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded']);

/** True for an error ECS answers when it paces requests (after the SDK's own retries gave up). */
export function isThrottling(err: unknown): boolean {
  return err instanceof Error && THROTTLING.has(err.name);
}

/** How ECS clients are built. */
export interface EcsClientOptions {
  observer?: EcsCallObserver;
  /** Total attempts per call (first + retries); default 6. */
  maxAttempts?: number;
  /**
   * `capped` (default): full-jitter exponential backoff, 500 ms doubling to at most 5 s per wait. `standard` and
   * `adaptive` are the SDK's own modes (kept for comparison; see createEcsClient).
   */
  retryMode?: 'capped' | 'standard' | 'adaptive';
}

/** Longest single wait between two attempts of one call. */
const MAX_RETRY_DELAY_MS = 5_000;

/** Full-jitter backoff: a random wait in [0, min(5 s, 250 ms · 2^attempt)) before attempt 2, 3, … */
export function cappedBackoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(MAX_RETRY_DELAY_MS, 250 * 2 ** attempt));
}

/**
 * Retries: 6 attempts with capped full-jitter backoff (waits of at most 0.5, 1, 2, 4, 5 s: ≤ 12.5 s in all, ~6 s on
 * average when every attempt is throttled). A ThrottlingException burst is absorbed (at a 30% throttle rate,
 * 0.3^6 ≈ 0.07% of calls still fail), and RunTask retries are safe because they carry our client token. Not the
 * SDK's `standard` mode: this SDK version's throttling backoff starts at 1 s and doubles to 20 s, up to ~31 s of
 * waiting inside one create-agent. Not `adaptive`: its rate limiter lives in one client (no coordination across
 * Lambda containers or processes) and, once throttled, paces every later call of the client — create-agent for all
 * jobs — far below ECS's refill rate (measured in the fake-endpoint test). GoCD re-sends create-agent and server-ping
 * on its own, so a call that still fails costs one round, never an agent.
 */
function retryConfig(options: EcsClientOptions): Record<string, unknown> {
  const maxAttempts = options.maxAttempts ?? 6;
  switch (options.retryMode ?? 'capped') {
    case 'capped':
      return { retryStrategy: new ConfiguredRetryStrategy(maxAttempts, (attempt) => cappedBackoffMs(attempt)) };
    case 'standard':
      return { retryMode: 'standard', maxAttempts };
    case 'adaptive':
      return { retryMode: 'adaptive', maxAttempts };
  }
}

/**
 * Builds an ECS client (the only place one is constructed): region from the profile, else the SDK's standard chain;
 * credentials from the standard chain, or an assumed role for another account's cluster; endpoint from the chain
 * too (`AWS_ENDPOINT_URL_ECS` / `AWS_ENDPOINT_URL`), never hard-coded.
 */
export function createEcsClient(
  cluster: Pick<ClusterProfile, 'region' | 'assumeRoleArn'>,
  options: EcsClientOptions = {},
): ECSClient {
  const client = new ECSClient({
    ...(cluster.region ? { region: cluster.region } : {}),
    ...retryConfig(options),
    ...(cluster.assumeRoleArn
      ? {
          credentials: fromTemporaryCredentials({
            params: { RoleArn: cluster.assumeRoleArn, RoleSessionName: 'gocd-agent-scaler' },
            ...(cluster.region ? { clientConfig: { region: cluster.region } } : {}),
          }),
        }
      : {}),
  });
  const observer = options.observer;
  if (observer) {
    // In the deserialize step, so it runs once per attempt (the retry middleware sits before it).
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = (context.commandName ?? 'unknown').replace(/Command$/, '');
        observer.call(operation);
        try {
          return await next(args);
        } catch (err) {
          if (isThrottling(err)) observer.throttled(operation);
          throw err;
        }
      },
      { step: 'deserialize', name: 'gocdAgentScalerCallCounter' },
    );
  }
  return client;
}
