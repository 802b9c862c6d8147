import { statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Docker from 'dockerode';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ActivityLog } from '../../src/agents/activity-log.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { AgentService } from '../../src/agents/agent-service.js';
import { parseClusterProfile } from '../../src/agents/profiles.js';
import { createDockerBackend, type DockerBackend } from '../../src/backends/docker/docker-backend.js';
import {
  cleanupRun,
  containerExists,
  dockerClusterProps,
  execIn,
  localDocker,
  RUN_LABEL,
  runId,
  waitFor,
  waitForJobScript,
} from '../support/docker-engine.js';
import { ensureJanitorImage, ensureTestImages, type TestImages, testImagePrereqs } from '../support/docker-images.js';
import { job } from '../support/gocd-bodies.js';
import { dockerAvailable, requireService } from '../support/services.js';

const ok =
  requireService('Docker engine', dockerAvailable(), 'install docker.io and start dockerd (see .ci/run)') &&
  requireService('busybox-static and docker.io binaries', testImagePrereqs() === undefined, String(testImagePrereqs()));

// Socket-mode agents and the janitor attribute "containers created since the agent" engine-wide, so all of them live
// in this one file (tests within a file run one at a time). Every other e2e file only creates scaler-labelled
// containers, which the attribution never counts.
// Fresh ids per run, so two runs sharing an engine never clean up each other's containers (the socket slot itself
// is engine-wide by design: concurrent runs of this file on one engine defer each other's socket agents).
const RUN = runId('e2es');
const CLUSTER = RUN;
const OTHER_CLUSTER = `${RUN}b`;
const SOCKET = '/var/run/docker.sock';

describe.skipIf(!ok)('socket mode on a real engine: the job’s containers die with its agent', () => {
  let docker: Docker;
  let images: TestImages;
  let backend: DockerBackend;
  let service: AgentService;
  const logger = pino({ level: 'silent' });
  const clusterProps = dockerClusterProps(CLUSTER, { allow_socket_mount: 'true' });
  const otherClusterProps = dockerClusterProps(OTHER_CLUSTER, { allow_socket_mount: 'true' });

  let childrenRemoved = 0;

  beforeAll(async () => {
    docker = localDocker();
    images = await ensureTestImages();
    backend = await createDockerBackend({}, logger, {
      stopSeconds: 1,
      onChildrenRemoved: (n) => {
        childrenRemoved += n;
      },
    });
    service = new AgentService({ backends: { forCluster: async () => backend }, activity: new ActivityLog(), logger });
    await cleanupRun(docker, RUN, [CLUSTER, OTHER_CLUSTER]);
  });
  afterEach(async () => cleanupRun(docker, RUN, [CLUSTER, OTHER_CLUSTER]));
  afterAll(async () => {
    if (docker) await cleanupRun(docker, RUN, [CLUSTER, OTHER_CLUSTER]);
  });

  /** A busybox container labelled for cleanup only (not a scaler label: as foreign as a user's own container). */
  async function unrelated(name: string): Promise<string> {
    const c = await docker.createContainer({
      name: `${RUN}-${name}`,
      Image: images.busybox,
      Cmd: ['sleep', '600'],
      Labels: { [RUN_LABEL]: RUN },
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    return c.id;
  }

  /** A "job" that starts `n` detached containers through the mounted socket with the agent's docker CLI. */
  function jobStarting(n: number): string {
    return `for i in $(seq 1 ${n}); do docker run -d --network none --label ${RUN_LABEL}=${RUN} ${images.busybox} sleep 600 || exit 1; done`;
  }

  async function createSocketAgent(jobId: number, props = clusterProps, script = jobStarting(3)) {
    return service.createAgent({
      autoRegisterKey: `key-${jobId}`,
      job: job(jobId),
      clusterProperties: props,
      profileProperties: { image: images.agent, docker_mode: 'socket', environment: `FAKE_AGENT_JOB=${script}` },
    });
  }

  const jobDone = (agentRef: string) => waitForJobScript(docker, agentRef, 30_000);

  async function children(): Promise<Docker.ContainerInfo[]> {
    const all = await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${RUN}`] } });
    return all.filter((c) => c.Command.includes('sleep 600') && !c.Names.some((n) => n.startsWith(`/${RUN}-`)));
  }

  const exists = (id: string) => containerExists(docker, id);

  it('the agent gets the engine socket mounted and the socket’s group, and its job can use it as a non-root user', async () => {
    const result = await createSocketAgent(201, clusterProps, 'docker version --format {{.Server.Version}}');
    if (result.kind !== 'launched') throw new Error(`expected launched, got ${JSON.stringify(result)}`);
    const info = await docker.getContainer(result.agent.ref).inspect();
    expect(info.Mounts).toEqual([expect.objectContaining({ Type: 'bind', Source: SOCKET, Destination: SOCKET })]);
    expect(info.HostConfig.GroupAdd).toEqual([String(statSync(SOCKET).gid)]);
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.Config.Labels?.['gocd-agent-scaler.docker-mode']).toBe('socket');
    await jobDone(result.agent.ref);
    expect((await execIn(docker, result.agent.ref, ['id', '-u'])).output.trim()).toBe('1000');
  });

  it('job-completion removes the agent and the 3 containers its job started, while a container started before the agent survives', async () => {
    const before = await unrelated('before');
    const result = await createSocketAgent(202);
    if (result.kind !== 'launched') throw new Error(`expected launched, got ${JSON.stringify(result)}`);
    await jobDone(result.agent.ref);
    const started = await children();
    expect(started).toHaveLength(3);
    expect(started.every((c) => c.State === 'running')).toBe(true);

    const removedBefore = childrenRemoved;
    const actions = await service.jobCompleted({
      elasticAgentId: agentIdFor(CLUSTER, 202),
      job: job(202),
      clusterProperties: clusterProps,
      agents: [],
    });
    expect(actions).toEqual({ disable: [agentIdFor(CLUSTER, 202)], delete: [agentIdFor(CLUSTER, 202)] });
    expect(childrenRemoved - removedBefore, 'reported to the reaped-children metric').toBe(3);
    expect(await exists(result.agent.ref)).toBe(false);
    for (const c of started) expect(await exists(c.Id)).toBe(false);
    expect(await children()).toEqual([]);
    expect((await docker.getContainer(before).inspect()).State.Running).toBe(true);
    expect(await backend.list(parseClusterProfile(clusterProps))).toEqual([]);
  });

  it('one socket-mode agent per engine: a second one, of any cluster, is deferred until the first ends, then launches', async () => {
    const first = await createSocketAgent(203, clusterProps, 'true');
    if (first.kind !== 'launched') throw new Error(`expected launched, got ${JSON.stringify(first)}`);
    const second = await createSocketAgent(204, otherClusterProps, 'true');
    expect(second).toEqual({
      kind: 'deferred',
      reason: expect.stringContaining(`the engine's socket slot is used by agent ${agentIdFor(CLUSTER, 203)}`),
    });
    const sameCluster = await createSocketAgent(205, clusterProps, 'true');
    expect(sameCluster.kind).toBe('deferred');
    expect(await backend.list(parseClusterProfile(otherClusterProps))).toEqual([]);

    await service.jobCompleted({
      elasticAgentId: agentIdFor(CLUSTER, 203),
      job: job(203),
      clusterProperties: clusterProps,
    });
    expect((await createSocketAgent(204, otherClusterProps, 'true')).kind).toBe('launched');
  });

  it('concurrent socket-mode create-agents for different jobs start exactly one agent; the rest are deferred', async () => {
    const results = await Promise.all([
      createSocketAgent(206, clusterProps, 'true'),
      createSocketAgent(207, otherClusterProps, 'true'),
      createSocketAgent(208, otherClusterProps, 'true'),
    ]);
    expect(results.filter((r) => r.kind === 'launched')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'deferred')).toHaveLength(2);
    const live = await docker.listContainers({
      filters: { label: ['gocd-agent-scaler.docker-mode=socket', 'gocd-agent-scaler.role=agent'] },
    });
    expect(live).toHaveLength(1);
  });

  it('two scaler processes (separate backends) launching socket agents at once start exactly one, every time', async () => {
    const otherProcess = new AgentService({
      backends: { forCluster: async () => createDockerBackend({}, logger, { stopSeconds: 1 }) },
      activity: new ActivityLog(),
      logger,
    });
    for (let round = 0; round < 3; round++) {
      const outcomes = await Promise.all([
        service.createAgent({
          autoRegisterKey: 'k',
          job: job(220 + round),
          clusterProperties: clusterProps,
          profileProperties: { image: images.agent, docker_mode: 'socket' },
        }),
        otherProcess.createAgent({
          autoRegisterKey: 'k',
          job: job(230 + round),
          clusterProperties: otherClusterProps,
          profileProperties: { image: images.agent, docker_mode: 'socket' },
        }),
      ]);
      expect(outcomes.map((o) => o.kind).sort()).toEqual(['deferred', 'launched']);
      const live = await docker.listContainers({
        all: true,
        filters: { label: ['gocd-agent-scaler.docker-mode=socket', 'gocd-agent-scaler.role=agent'] },
      });
      expect(live).toHaveLength(1);
      await cleanupRun(docker, RUN, [CLUSTER, OTHER_CLUSTER]);
    }
  }, 90_000);

  it('an agent killed from outside has its children removed at the next server-ping, and a new socket agent can start', async () => {
    const before = await unrelated('before-kill');
    const result = await createSocketAgent(209);
    if (result.kind !== 'launched') throw new Error(`expected launched, got ${JSON.stringify(result)}`);
    await jobDone(result.agent.ref);
    const started = await children();
    expect(started).toHaveLength(3);

    await docker.getContainer(result.agent.ref).kill();
    await waitFor(
      'the agent container to exit',
      async () => (await docker.getContainer(result.agent.ref).inspect()).State.Status === 'exited',
    );
    // The children outlive their agent until the service notices.
    expect(await children()).toHaveLength(3);

    await service.serverPing(
      [clusterProps],
      [
        {
          agent_id: agentIdFor(CLUSTER, 209),
          agent_state: 'Building',
          build_state: 'Building',
          config_state: 'Enabled',
        },
      ],
    );
    expect(await children()).toEqual([]);
    expect(await exists(result.agent.ref)).toBe(false);
    expect((await docker.getContainer(before).inspect()).State.Running).toBe(true);
    expect((await createSocketAgent(210, clusterProps, 'true')).kind).toBe('launched');
  });

  describe('the ECS janitor script (docker/janitor), run against the real engine', () => {
    let janitorImage: string;
    let metadata: Server;
    let metadataUrl: string;
    const taskArn = 'arn:aws:ecs:eu-west-1:123456789012:task/agents/0123456789abcdef0123456789abcdef';

    beforeAll(async () => {
      janitorImage = await ensureJanitorImage(images.agent);
      // The ECS task metadata endpoint v4 (`${ECS_CONTAINER_METADATA_URI_V4}/task`), as the ECS agent serves it.
      metadata = createServer((req, res) => {
        if (req.url === '/v4/janitor-test/task') {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ Cluster: 'agents', TaskARN: taskArn, Family: 'gocd-agent-abc', Revision: '3' }));
        } else {
          res.statusCode = 404;
          res.end();
        }
      });
      await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', resolve));
      metadataUrl = `http://127.0.0.1:${(metadata.address() as AddressInfo).port}/v4/janitor-test`;
    });
    afterAll(async () => {
      await new Promise((resolve) => metadata?.close(resolve));
    });

    /** A container as the ECS agent makes them: ECS labels naming its task and its container name there. */
    async function ecsContainer(
      name: string,
      arn: string,
      containerName: string,
      extra: Partial<Docker.ContainerCreateOptions> = {},
    ) {
      const c = await docker.createContainer({
        name: `${RUN}-${name}`,
        Image: images.busybox,
        Cmd: ['sleep', '600'],
        Labels: {
          [RUN_LABEL]: RUN,
          'com.amazonaws.ecs.task-arn': arn,
          'com.amazonaws.ecs.container-name': containerName,
          'com.amazonaws.ecs.cluster': 'agents',
        },
        HostConfig: { NetworkMode: 'none' },
        ...extra,
      });
      await c.start();
      return c.id;
    }

    /**
     * The janitor as ECS runs it (ECS labels, host network to reach the loopback metadata endpoint), or `bare`: no
     * labels and its own network namespace, so it is a container created after the agent and must spare itself.
     */
    async function startJanitor(name: string, env: string[], bare = false): Promise<Docker.Container> {
      const janitor = await docker.createContainer({
        name: `${RUN}-${name}`,
        Image: janitorImage,
        Env: env,
        Labels: bare
          ? { [RUN_LABEL]: RUN }
          : {
              [RUN_LABEL]: RUN,
              'com.amazonaws.ecs.task-arn': taskArn,
              'com.amazonaws.ecs.container-name': 'janitor',
            },
        HostConfig: { NetworkMode: bare ? 'none' : 'host', Binds: [`${SOCKET}:${SOCKET}`] },
      });
      await janitor.start();
      return janitor;
    }

    async function sigtermAndWait(janitor: Docker.Container): Promise<{ exitCode: number; logs: string }> {
      await janitor.kill({ signal: 'SIGTERM' });
      const { StatusCode } = (await Promise.race([
        janitor.wait(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('janitor did not exit within 20 s')), 20_000)),
      ])) as { StatusCode: number };
      const logs = (await janitor.logs({ stdout: true, stderr: true })).toString('utf8');
      return { exitCode: StatusCode, logs };
    }

    it('on SIGTERM it finds its task’s agent through the ECS metadata endpoint and removes the containers started since, sparing older, ECS-managed and scaler-labelled ones', async () => {
      const older = await unrelated('j-older');
      // Another task's agent on the same host, created before ours: its name is `agent` too, its task differs.
      const otherTaskAgent = await ecsContainer('j-other-agent', `${taskArn}-other`, 'agent');
      const agent = await ecsContainer('j-agent', taskArn, 'agent');
      const janitor = await startJanitor('j-janitor', [`ECS_CONTAINER_METADATA_URI_V4=${metadataUrl}`]);
      await waitFor(
        'the janitor to find the agent',
        async () =>
          (await janitor.logs({ stdout: true, stderr: true })).toString('utf8').includes(`watching agent ${agent}`),
        15_000,
        200,
      );
      const jobChildren = await Promise.all(['c1', 'c2', 'c3'].map((n) => unrelated(`j-child-${n}`)));
      const laterEcs = await ecsContainer('j-later-ecs', `${taskArn}-later`, 'app');
      const scalerOwned = await docker.createContainer({
        name: `${RUN}-j-scaler`,
        Image: images.busybox,
        Cmd: ['sleep', '600'],
        Labels: { [RUN_LABEL]: RUN, 'gocd-agent-scaler.role': 'agent' },
        HostConfig: { NetworkMode: 'none' },
      });

      const { exitCode, logs } = await sigtermAndWait(janitor);
      expect(exitCode).toBe(0);
      expect(logs).toContain(`removed 3 container(s) started through the socket since agent ${agent}`);
      for (const id of jobChildren) expect(await exists(id)).toBe(false);
      for (const id of [older, otherTaskAgent, agent, laterEcs, scalerOwned.id]) expect(await exists(id)).toBe(true);
    });

    it('with JANITOR_AGENT_CONTAINER it needs no ECS metadata, spares itself, and also removes stopped children', async () => {
      const older = await unrelated('j2-older');
      const agent = await unrelated('j2-agent');
      const janitor = await startJanitor(
        'j2-janitor',
        [`JANITOR_AGENT_CONTAINER=${RUN}-j2-agent`, 'JANITOR_STOP_TIMEOUT=1'],
        true,
      );
      const running = await unrelated('j2-child-running');
      const stopped = await unrelated('j2-child-stopped');
      await docker.getContainer(stopped).kill();
      const { exitCode, logs } = await sigtermAndWait(janitor);
      expect(exitCode).toBe(0);
      expect(logs).toContain('removed 2 container(s)');
      expect(await exists(running)).toBe(false);
      expect(await exists(stopped)).toBe(false);
      expect(await exists(older)).toBe(true);
      expect(await exists(agent)).toBe(true);
      expect(await exists(janitor.id)).toBe(true);
    });
  });
});
