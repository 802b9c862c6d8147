import { statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ActivityLog } from '../../src/agents/activity-log.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { AgentService } from '../../src/agents/agent-service.js';
import { parseClusterProfile, parseElasticProfile } from '../../src/agents/profiles.js';
import { containerNameFor, LABEL } from '../../src/backends/docker/container-spec.js';
import { createDockerBackend, type DockerBackend } from '../../src/backends/docker/docker-backend.js';
import type { LaunchRequest } from '../../src/backends/port.js';
import {
  cleanupRun,
  containerExists,
  containerLogs,
  containersWithLabel,
  dockerCli,
  localDocker,
  RUN_LABEL,
  runId,
  waitFor,
} from '../support/docker-engine.js';
import { ensureTestImages, type TestImages, testImagePrereqs } from '../support/docker-images.js';
import { job } from '../support/gocd-bodies.js';
import { singleBackend } from '../support/memory-backend.js';
import { dockerAvailable, requireService } from '../support/services.js';

// Socket-mode attribution counts every unlabelled container created after the agent as the job's. The tests that
// rely on it (socket agents and the janitor) therefore live in this one file, so they never run alongside each other;
// the other Docker suites only create labelled containers, which attribution ignores.

const ok =
  requireService('Docker engine', dockerAvailable(), 'install docker.io and start dockerd (see .ci/run)') &&
  requireService('test image ingredients', testImagePrereqs() === undefined, testImagePrereqs() ?? '');

const run = runId('e2es');
const clusterA = `${run}a`;
const clusterB = `${run}b`;
const docker = localDocker();
const logger = pino({ level: 'silent' });

function clusterProps(clusterId = clusterA): Record<string, string> {
  return {
    go_server_url: 'https://gocd.example.com/go',
    cluster_id: clusterId,
    allow_socket_mount: 'true',
  };
}

/** A socket-mode job that starts `n` long-running children through the mounted socket, then idles. */
function socketJob(images: TestImages, n: number): string {
  return `set -e; for i in $(seq 1 ${n}); do docker run -d --label ${RUN_LABEL}=${run} ${images.busybox} sleep 1000; done`;
}

function socketProfile(images: TestImages, children = 0): Record<string, string> {
  return {
    image: images.agent,
    docker_mode: 'socket',
    ...(children > 0 ? { environment: `FAKE_AGENT_JOB=${socketJob(images, children)}` } : {}),
  };
}

function request(images: TestImages, clusterId: string, jobId: number): LaunchRequest {
  return {
    agentId: agentIdFor(clusterId, jobId),
    job: job(jobId),
    cluster: parseClusterProfile(clusterProps(clusterId)),
    profile: parseElasticProfile(socketProfile(images)),
    jobEnv: { GO_EA_AUTO_REGISTER_KEY: 'k' },
  };
}

/** Unlabelled-by-us containers of this run (children and bystanders), excluding the given ids. */
async function runContainers(except: readonly string[] = []): Promise<string[]> {
  return (await containersWithLabel(docker, `${RUN_LABEL}=${run}`)).filter((id) => !except.includes(id));
}

async function startBystander(images: TestImages): Promise<string> {
  return dockerCli(['run', '-d', '--label', `${RUN_LABEL}=${run}`, images.busybox, 'sleep', '1000']);
}

describe.skipIf(!ok)('socket mode on a real engine', () => {
  let images: TestImages;
  let backend: DockerBackend;
  let service: AgentService;
  let childrenRemoved = 0;

  beforeAll(async () => {
    images = await ensureTestImages();
    backend = await createDockerBackend({}, logger, {
      stopSeconds: 1,
      onChildrenRemoved: (n) => (childrenRemoved += n),
    });
    service = new AgentService({ backends: singleBackend(backend), activity: new ActivityLog(), logger });
  });

  afterEach(async () => {
    await cleanupRun(docker, run, [clusterA, clusterB]);
  });

  it('mounts the engine socket with its group, so a non-root agent can use it', async () => {
    const outcome = await backend.launch(request(images, clusterA, 201));
    expect(outcome.kind).toBe('launched');
    const info = await docker.getContainer(containerNameFor(clusterA, 201)).inspect();
    expect(info.Config.Labels?.[LABEL.dockerMode]).toBe('socket');
    expect(info.Mounts).toEqual([
      expect.objectContaining({ Type: 'bind', Source: '/var/run/docker.sock', Destination: '/var/run/docker.sock' }),
    ]);
    expect(info.HostConfig.GroupAdd).toEqual([String(statSync('/var/run/docker.sock').gid)]);
    expect(await dockerCli(['exec', containerNameFor(clusterA, 201), 'id', '-u'])).toBe('1000');
    expect(
      await dockerCli([
        'exec',
        containerNameFor(clusterA, 201),
        'docker',
        'version',
        '--format',
        '{{.Server.Version}}',
      ]),
    ).not.toBe('');
  });

  it('job-completion removes the agent and the 3 containers its job started, while an older unrelated container survives', async () => {
    const bystander = await startBystander(images);
    const result = await service.createAgent({
      autoRegisterKey: 'k',
      job: job(202),
      clusterProperties: clusterProps(),
      profileProperties: socketProfile(images, 3),
    });
    expect(result.kind).toBe('launched');
    const children = await waitFor('3 children', async () => {
      const ids = await runContainers([bystander]);
      return ids.length === 3 ? ids : undefined;
    });
    const removedBefore = childrenRemoved;
    const actions = await service.jobCompleted({
      elasticAgentId: agentIdFor(clusterA, 202),
      job: job(202),
      clusterProperties: clusterProps(),
    });
    expect(actions).toEqual({ disable: [agentIdFor(clusterA, 202)], delete: [agentIdFor(clusterA, 202)] });
    expect(childrenRemoved - removedBefore, 'reported to the reaped-children metric').toBe(3);
    expect(await containerExists(docker, containerNameFor(clusterA, 202))).toBe(false);
    for (const id of children) expect(await containerExists(docker, id)).toBe(false);
    expect((await docker.getContainer(bystander).inspect()).State.Status).toBe('running');
  }, 60_000);

  it('an agent killed from outside has its children removed at the next server-ping, and GoCD is told to delete it', async () => {
    const bystander = await startBystander(images);
    await service.createAgent({
      autoRegisterKey: 'k',
      job: job(203),
      clusterProperties: clusterProps(),
      profileProperties: socketProfile(images, 3),
    });
    const children = await waitFor('3 children', async () => {
      const ids = await runContainers([bystander]);
      return ids.length === 3 ? ids : undefined;
    });
    const agentId = agentIdFor(clusterA, 203);
    await dockerCli(['kill', containerNameFor(clusterA, 203)]);
    const actions = await service.serverPing(
      [clusterProps()],
      [{ agent_id: agentId, agent_state: 'Building', build_state: 'Building', config_state: 'Enabled' }],
    );
    expect(actions.delete).toContain(agentId);
    expect(await containerExists(docker, containerNameFor(clusterA, 203))).toBe(false);
    for (const id of children) expect(await containerExists(docker, id)).toBe(false);
    expect((await docker.getContainer(bystander).inspect()).State.Status).toBe('running');
  }, 60_000);

  it('holds one socket agent per engine: a second one, of any cluster, is deferred until the first is gone', async () => {
    const first = await backend.launch(request(images, clusterA, 204));
    expect(first.kind).toBe('launched');
    const second = await backend.launch(request(images, clusterB, 205));
    expect(second).toEqual({
      kind: 'deferred',
      reason: `the engine's socket slot is used by agent ${agentIdFor(clusterA, 204)}; GoCD will re-send create-agent`,
    });
    expect(await containerExists(docker, containerNameFor(clusterB, 205))).toBe(false);
    if (first.kind === 'launched') await backend.stop(parseClusterProfile(clusterProps()), [first.agent], 'done');
    expect((await backend.launch(request(images, clusterB, 205))).kind).toBe('launched');
  });

  it('two scaler processes launching socket agents at once start exactly one, every time', async () => {
    const other = await createDockerBackend({}, logger, { stopSeconds: 1 });
    for (let round = 0; round < 3; round++) {
      const jobs = [210 + round * 2, 211 + round * 2] as const;
      const outcomes = await Promise.all([
        backend.launch(request(images, clusterA, jobs[0])),
        other.launch(request(images, clusterB, jobs[1])),
      ]);
      expect(outcomes.map((o) => o.kind).sort()).toEqual(['deferred', 'launched']);
      const live = (await docker.listContainers({ filters: { label: [`${LABEL.dockerMode}=socket`] } })).length;
      expect(live).toBe(1);
      await cleanupRun(docker, run, [clusterA, clusterB]);
    }
  }, 90_000);
});

describe.skipIf(!ok)('janitor.sh on a real engine', () => {
  const janitorScript = join(import.meta.dirname, '..', '..', 'docker', 'janitor', 'janitor.sh');
  const taskArn = `arn:aws:ecs:eu-west-1:123456789012:task/ci/${run}`;
  let images: TestImages;
  let metadata: Server;
  let metadataUrl: string;

  beforeAll(async () => {
    images = await ensureTestImages();
    // A stand-in for the ECS task metadata endpoint v4 (loopback; the janitor uses the host network to reach it).
    metadata = createServer((req, res) => {
      if (req.url === '/v4/janitor/task') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ Cluster: 'ci', TaskARN: taskArn, Family: 'gocd-agent-x', Containers: [] }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', resolve));
    metadataUrl = `http://127.0.0.1:${(metadata.address() as AddressInfo).port}/v4/janitor`;
  });

  afterAll(async () => {
    await cleanupRun(docker, run, []);
    await new Promise((resolve) => metadata.close(resolve));
  });

  /** An ECS-style container of this task (labels as the ECS agent sets them). */
  async function ecsContainer(name: string, arn = taskArn): Promise<string> {
    return dockerCli([
      'run',
      '-d',
      '--label',
      `${RUN_LABEL}=${run}`,
      '--label',
      `com.amazonaws.ecs.task-arn=${arn}`,
      '--label',
      `com.amazonaws.ecs.container-name=${name}`,
      '--label',
      'com.amazonaws.ecs.cluster=ci',
      images.busybox,
      'sleep',
      '1000',
    ]);
  }

  async function startJanitor(env: string[]): Promise<string> {
    return dockerCli([
      'run',
      '-d',
      '--network',
      'host',
      '--user',
      '0',
      '--entrypoint',
      '/bin/sh',
      '--label',
      `${RUN_LABEL}=${run}`,
      '--label',
      `com.amazonaws.ecs.task-arn=${taskArn}`,
      '--label',
      'com.amazonaws.ecs.container-name=janitor',
      '-v',
      '/var/run/docker.sock:/var/run/docker.sock',
      '-v',
      `${janitorScript}:/janitor.sh:ro`,
      ...env.flatMap((e) => ['-e', e]),
      images.agent,
      '/janitor.sh',
    ]);
  }

  async function sigtermAndWait(janitor: string): Promise<Docker.ContainerInspectInfo> {
    await waitFor('the janitor to start watching', async () => /janitor: /.test(await containerLogs(janitor)));
    await dockerCli(['kill', '--signal', 'TERM', janitor]);
    try {
      return await waitFor(
        'the janitor to exit',
        async () => {
          const info = await docker.getContainer(janitor).inspect();
          return info.State.Status === 'exited' ? info : undefined;
        },
        30_000,
      );
    } catch (err) {
      throw new Error(`${String(err)}; janitor log:\n${await containerLogs(janitor)}`);
    }
  }

  it('on SIGTERM removes the containers started through the socket since the agent (found via ECS task metadata), and nothing else', async () => {
    const older = await startBystander(images);
    const otherTaskOld = await ecsContainer('agent', `${taskArn}-other`);
    const agent = await ecsContainer('agent');
    const janitor = await startJanitor([
      `ECS_CONTAINER_METADATA_URI_V4=${metadataUrl}`,
      'JANITOR_AGENT_CONTAINER_NAME=agent',
      'JANITOR_STOP_TIMEOUT=1',
    ]);
    const children = await Promise.all([1, 2, 3].map(() => startBystander(images)));
    const ecsManagedLater = await ecsContainer('agent', `${taskArn}-later`);
    const scalerLabelled = await dockerCli([
      'run',
      '-d',
      '--label',
      `${RUN_LABEL}=${run}`,
      '--label',
      `${LABEL.role}=agent`,
      images.busybox,
      'sleep',
      '1000',
    ]);

    const info = await sigtermAndWait(janitor);
    expect(info.State.ExitCode).toBe(0);
    const logs = await containerLogs(janitor);
    for (const id of children) expect(await containerExists(docker, id), `child ${id} ${logs}`).toBe(false);
    for (const id of [older, otherTaskOld, agent, ecsManagedLater, scalerLabelled]) {
      expect((await docker.getContainer(id).inspect()).State.Status).toBe('running');
    }
  }, 90_000);

  it('takes the agent container from JANITOR_AGENT_CONTAINER where there is no ECS metadata', async () => {
    const agent = await dockerCli([
      'run',
      '-d',
      '--label',
      `${RUN_LABEL}=${run}`,
      '--label',
      `${LABEL.role}=agent`,
      images.busybox,
      'sleep',
      '1000',
    ]);
    const janitor = await startJanitor([`JANITOR_AGENT_CONTAINER=${agent}`, 'JANITOR_STOP_TIMEOUT=1']);
    const child = await startBystander(images);
    const info = await sigtermAndWait(janitor);
    expect(info.State.ExitCode).toBe(0);
    expect(await containerExists(docker, child)).toBe(false);
    expect(await containerExists(docker, agent)).toBe(true);
  }, 60_000);
});
