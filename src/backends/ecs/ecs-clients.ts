import { ECSClient } from '@aws-sdk/client-ecs';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { ClusterProfile } from '../../agents/profiles.js';

/** Counts ECS API attempts and throttles (the Prometheus adapter implements it). */
export interface EcsCallObserver {
  call(operation: string): void;
  throttled(operation: string): void;
}

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded']);

export interface EcsClientOptions {
  observer?: EcsCallObserver;
  /** Total attempts per call (first + retries); default 8. */
  maxAttempts?: number;
  /** `adaptive` (default) or `standard` (no client-side rate limiter). */
  retryMode?: 'adaptive' | 'standard';
}

/**
 * Builds ECS clients (the only place they are constructed): one per (region, role), with the SDK's standard
 * configuration chain — credentials, and `AWS_ENDPOINT_URL_ECS` / `AWS_ENDPOINT_URL` endpoint overrides — never a
 * hard-coded endpoint.
 */
export function createEcsClient(
  cluster: Pick<ClusterProfile, 'region' | 'assumeRoleArn'>,
  options: EcsClientOptions = {},
): ECSClient {
  const client = new ECSClient({
    ...(cluster.region ? { region: cluster.region } : {}),
    // Adaptive retries: the standard backoff (500 ms base for throttling, capped at 20 s) plus a client-side rate
    // limiter that slows this client down after ThrottlingException, since ECS read/modify buckets are per account.
    retryMode: options.retryMode ?? 'adaptive',
    maxAttempts: options.maxAttempts ?? 8,
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
          if (THROTTLING.has((err as Error).name)) observer.throttled(operation);
          throw err;
        }
      },
      { step: 'deserialize', name: 'gocdAgentScalerCallCounter' },
    );
  }
  return client;
}
