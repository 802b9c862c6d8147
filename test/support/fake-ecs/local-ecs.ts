import { DescribeTasksCommand, ECSClient, type Task } from '@aws-sdk/client-ecs';
import type Docker from 'dockerode';
import { bridgeGatewayAddress, RUN_LABEL, waitFor } from '../docker-engine.js';
import { type ClusterSpec, FakeEcs } from './fake-ecs-server.js';
import { LocalEngineRuntime, type LocalEngineRuntimeOptions } from './local-engine-runtime.js';

/** The loopback ECS endpoint running its tasks on a Docker engine, and a real ECSClient pointed at it. */
export interface LocalEcs {
  fake: FakeEcs;
  runtime: LocalEngineRuntime;
  client: ECSClient;
  /** Stops every task, removes what they left, stops the endpoints. */
  stop(): Promise<void>;
}

/**
 * Starts FakeEcs with a LocalEngineRuntime on `docker` (default: containers on the shared engine's default bridge,
 * labelled with the test run so cleanupRun finds them). The metadata endpoint listens on the shared engine's bridge
 * gateway, which containers on that bridge and in a private engine's host network both reach.
 */
export async function startLocalEcs(
  docker: Docker,
  run: string,
  options: Partial<Omit<LocalEngineRuntimeOptions, 'docker'>> & {
    /** ECS clusters that exist (the endpoint answers ClusterNotFoundException for others); default `default`. */
    clusters?: ClusterSpec[];
  } = {},
): Promise<LocalEcs> {
  const { clusters = ['default'], ...runtimeOptions } = options;
  const runtime = await LocalEngineRuntime.start({
    docker,
    metadataHost: runtimeOptions.metadataHost ?? (await bridgeGatewayAddress()),
    labels: { [RUN_LABEL]: run, ...(runtimeOptions.labels ?? {}) },
    ...runtimeOptions,
  });
  const fake = await new FakeEcs({ runtime, clusters }).start();
  const client = new ECSClient({ ...fake.clientConfig(), maxAttempts: 2 });
  return {
    fake,
    runtime,
    client,
    stop: async () => {
      client.destroy();
      await runtime.shutdown();
      await fake.stop();
    },
  };
}

/** Describes one task until `until` holds (DescribeTasks polled every 200 ms, at most `timeoutMs`). */
export async function waitForTask(
  client: ECSClient,
  cluster: string | undefined,
  taskArn: string,
  what: string,
  until: (t: Task) => boolean,
  timeoutMs = 60_000,
): Promise<Task> {
  let last: Task | undefined;
  try {
    return await waitFor(
      `task ${taskArn.split('/').pop()} ${what}`,
      async () => {
        const { tasks } = await client.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
        last = tasks?.[0];
        return last && until(last) ? last : undefined;
      },
      timeoutMs,
      200,
    );
  } catch (err) {
    throw new Error(
      `${(err as Error).message}; last seen ${last?.lastStatus}/${last?.desiredStatus} ${last?.stopCode ?? ''} ${last?.stoppedReason ?? ''}`,
    );
  }
}
