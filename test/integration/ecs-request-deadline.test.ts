import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../src/agents/agent-backend.port.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { EcsBackend } from '../../src/backends/ecs/ecs-backend.js';
import { createEcsClient } from '../../src/backends/ecs/ecs-clients.js';
import type { EcsLaunchRequest } from '../../src/backends/ecs/ecs-profiles.js';
import { job } from '../support/gocd-bodies.js';
import { ecsCluster, ecsProfile } from '../support/profiles.js';

// The request deadline reaches inside the SDK: the production ECS client (createEcsClient: 6 attempts, capped
// backoff) retries a throttled call on its own, and before the fix a call that ECS kept throttling went on for all its
// attempts (and the backend's pacer loop for 5 minutes) whatever the request's deadline said — in Lambda past the
// invocation's budget, in the process past the forwarder's 30 s. Here the deadline "passes" (a signal the test fires,
// no wall clock) while the SDK holds its second attempt: that attempt is cut off and no third one is sent.
//
// The endpoint speaks the awsJson1_1 error form ECS uses (HTTP 400, `{"__type": …, "message": …}`, see
// test/support/fake-ecs/ecs-errors.ts): every request is throttled, the second one never answered.

const logger = pino({ level: 'silent' });
let server: Server;
let requests: string[] = [];
let held: ServerResponse[] = [];
/** Fires the deadline of the call in flight (set by the backend's deadlineSignal). */
let fireDeadline: (() => void) | undefined;
let deadlines: number[] = [];
let restoreEnv: () => void;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      requests.push(String(req.headers['x-amz-target'] ?? '').replace('AmazonEC2ContainerServiceV20141113.', ''));
      if (requests.length === 2) {
        // The SDK's second attempt: hold it, and let the request's deadline pass meanwhile.
        held.push(res);
        fireDeadline?.();
        return;
      }
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'com.amazonaws.ecs#ThrottlingException', message: 'Rate exceeded' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const env = {
    AWS_ENDPOINT_URL_ECS: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'eu-west-1',
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  restoreEnv = () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
});
afterAll(async () => {
  restoreEnv();
  for (const res of held) res.destroy();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  requests = [];
  held = [];
  deadlines = [];
  fireDeadline = undefined;
});

const cluster = ecsCluster({
  go_server_url: 'https://gocd.example.com/go',
  cluster_id: 'ci',
  cluster: 'ci-agents',
});
const DEADLINE = 1_800_000_000_000;

function backend(): EcsBackend {
  return new EcsBackend(createEcsClient(cluster), {
    logger,
    now: () => DEADLINE - 20_000,
    deadlineSignal: (deadline) => {
      deadlines.push(deadline);
      const controller = new AbortController();
      fireDeadline = () => controller.abort();
      return controller.signal;
    },
  });
}

function request(jobId: number): EcsLaunchRequest {
  return {
    agentId: agentIdFor('ci', jobId),
    job: job(jobId),
    cluster,
    profile: ecsProfile({ image: 'agent:1', task_definition: 'team-agents:3' }),
    jobEnv: { GO_EA_AUTO_REGISTER_KEY: 'k' },
    deadline: DEADLINE,
  };
}

describe("the request deadline ends the SDK's own retries", () => {
  it('a launch whose ECS call the SDK is still retrying answers throttled at the deadline, with no further attempt', async () => {
    // The profile's own definition is described first: DescribeTaskDefinition is the call that stays throttled.
    const outcome = await backend().launch(request(1));
    expect(outcome).toEqual({ kind: 'throttled', detail: 'ECS throttled the task definition calls' });
    expect(requests).toEqual(['DescribeTaskDefinition', 'DescribeTaskDefinition']);
    expect(deadlines).toEqual([DEADLINE]);
  });

  it('a listing the SDK is still retrying fails as throttled at the deadline (the job waits, nothing is reported broken)', async () => {
    await expect(backend().list(cluster, DEADLINE)).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      throttled: true,
    });
    expect(requests).toEqual(['ListTasks', 'ListTasks']);
  });

  it('a StopTask the SDK is still retrying gives up at the deadline: the agent is left for server-ping', async () => {
    const agent: AgentRecord = {
      agentId: agentIdFor('ci', 3),
      jobId: 3,
      clusterId: 'ci',
      pipeline: 'app/7/test/1/build',
      ref: 'arn:aws:ecs:eu-west-1:123456789012:task/ci-agents/t3',
      status: 'running',
      createdAt: new Date(0),
    };
    await expect(backend().stop(cluster, [agent], 'job completed', DEADLINE)).rejects.toThrow(
      /ECS throttled StopTask past the deadline/,
    );
    expect(requests).toEqual(['StopTask', 'StopTask']);
  });
});
