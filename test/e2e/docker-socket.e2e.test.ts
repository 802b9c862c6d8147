import type Docker from 'dockerode';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import {
  createDockerBackend,
  type DockerBackend,
  DockerBackend as DockerBackendClass,
} from '../../src/backends/docker/docker-backend.js';
import { engineAddress } from '../../src/backends/docker/docker-client.js';
import { findSocketChildren } from '../../src/backends/docker/socket-children.js';
import { claimSocketSlot, readSocketSlot } from '../../src/backends/docker/socket-slot.js';
import {
  cleanupRun,
  containerExists,
  dockerClusterProps,
  execIn,
  localDocker,
  runId,
  waitFor,
  waitForJobScript,
} from '../support/docker-engine.js';
import { dockerTestImagesReady, ensureTestImages, type TestImages } from '../support/docker-images.js';
import { job } from '../support/gocd-bodies.js';
import { type PrivateEngine, removeEverything, startPrivateEngine } from '../support/private-engine.js';
import { type EdgeService, edgeService, dockerCluster as parseClusterProfile } from '../support/profiles.js';

const ok = dockerTestImagesReady();

// Socket mode attributes "containers created since the agent" engine-wide, so this file runs its socket agents on a
// private engine of its own (test/support/private-engine.ts): nothing it does can touch another suite's, another
// helper's or a developer's containers on the shared engine, and everything in the private engine is this file's.
const RUN = runId('e2es');
const CLUSTER = RUN;
const OTHER_CLUSTER = `${RUN}b`;

describe.skipIf(!ok)(
  'socket mode on a real (private) engine: the job’s containers die with its agent',
  { timeout: 120_000 },
  () => {
    let engine: PrivateEngine;
    let docker: Docker;
    let images: TestImages;
    let backend: DockerBackend;
    let service: EdgeService;
    const logger = pino({ level: 'silent' });
    let clusterProps: Record<string, string>;
    let otherClusterProps: Record<string, string>;
    let childrenRemoved = 0;

    beforeAll(async () => {
      images = await ensureTestImages();
      engine = await startPrivateEngine(RUN);
      docker = engine.docker;
      await engine.load(images.busybox, images.agent);
      // The private engine has no bridge network: agents and children run without networking.
      const engineProps = { allow_socket_mount: 'true', docker_host: engine.dockerHost, network: 'none' };
      clusterProps = dockerClusterProps(CLUSTER, engineProps);
      otherClusterProps = dockerClusterProps(OTHER_CLUSTER, engineProps);
      backend = await createDockerBackend({ dockerHost: engine.dockerHost }, logger, {
        stopSeconds: 1,
        onChildrenRemoved: (n) => {
          childrenRemoved += n;
        },
      });
      service = edgeService(backend, { logger });
    });
    afterEach(async () => removeEverything(engine.docker));
    afterAll(async () => {
      await engine?.stop();
      await cleanupRun(localDocker(), RUN, []);
    });

    /** A busybox container nobody labelled: as foreign to the scaler as a user's own container. */
    async function unrelated(name: string): Promise<string> {
      const c = await docker.createContainer({
        name: `${RUN}-${name}`,
        Image: images.busybox,
        Cmd: ['sleep', '600'],
        HostConfig: { NetworkMode: 'none' },
      });
      await c.start();
      return c.id;
    }

    /** A "job" that starts `n` detached containers through the mounted socket with the agent's docker CLI. */
    function jobStarting(n: number, tag = 'child'): string {
      return `for i in $(seq 1 ${n}); do docker run -d --network none --label job=${tag} ${images.busybox} sleep 600 || exit 1; done`;
    }

    async function createSocketAgent(jobId: number, props = clusterProps, script = jobStarting(3), on = service) {
      return on.createAgent({
        autoRegisterKey: `key-${jobId}`,
        job: job(jobId),
        clusterProperties: props,
        profileProperties: { image: images.agent, docker_mode: 'socket', environment: `FAKE_AGENT_JOB=${script}` },
      });
    }

    async function launched(result: Awaited<ReturnType<typeof createSocketAgent>>) {
      if (result.kind !== 'launched') throw new Error(`expected launched, got ${JSON.stringify(result)}`);
      return result.agent;
    }

    const jobDone = (agentRef: string) => waitForJobScript(docker, agentRef, 30_000);

    /** Containers a job labelled `job=<tag>` (the test's way to tell whose children they are). */
    async function childrenOf(tag: string): Promise<Docker.ContainerInfo[]> {
      return docker.listContainers({ all: true, filters: { label: [`job=${tag}`] } });
    }

    const exists = (id: string) => containerExists(docker, id);

    /** A claim of the engine's socket slot made by someone else (another scaler process, a janitor …); its id. */
    async function claimByHand(keeper: string, holder: string): Promise<string> {
      const claim = await claimSocketSlot(docker, { keeper, holder, image: images.busybox });
      if (claim.kind !== 'claimed') throw new Error('the socket slot is already held');
      return claim.slot.id;
    }

    it('the agent gets the engine socket mounted and the socket’s group (a gid its image does not know), and its job can use it as a non-root user', async () => {
      const agent = await launched(
        await createSocketAgent(201, clusterProps, 'docker version --format {{.Server.Version}} > /tmp/server-version'),
      );
      const info = await docker.getContainer(agent.ref).inspect();
      expect(info.Mounts).toEqual([
        expect.objectContaining({ Type: 'bind', Source: engine.socketPath, Destination: '/var/run/docker.sock' }),
      ]);
      expect(info.HostConfig.GroupAdd).toEqual([String(engine.socketGid)]);
      expect(info.HostConfig.Privileged).toBe(false);
      expect(info.Config.Labels?.['gocd-agent-scaler.docker-mode']).toBe('socket');
      await jobDone(agent.ref);
      expect((await execIn(docker, agent.ref, ['id', '-u'])).output.trim()).toBe('1000');
      expect((await execIn(docker, agent.ref, ['cat', '/tmp/server-version'])).output.trim()).toMatch(/^\d+\.\d+/);
    });

    it('job-completion removes the agent and the 3 containers its job started, while a container started before the agent survives', async () => {
      const before = await unrelated('before');
      const agent = await launched(await createSocketAgent(202));
      await jobDone(agent.ref);
      const started = await childrenOf('child');
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
      expect(await exists(agent.ref)).toBe(false);
      expect(await childrenOf('child')).toEqual([]);
      expect((await docker.getContainer(before).inspect()).State.Running).toBe(true);
      expect(await readSocketSlot(docker), 'the slot is released with the agent').toBeUndefined();
      expect(await backend.list(parseClusterProfile(clusterProps))).toEqual([]);
    });

    it('one socket-mode agent per engine: the slot is a uniquely named container kept by the agent; a second agent, of any cluster, is deferred until the first ends, then launches', async () => {
      const first = await launched(await createSocketAgent(203, clusterProps, 'true'));
      const slot = await readSocketSlot(docker);
      expect(slot).toMatchObject({ keeper: first.ref, holder: agentIdFor(CLUSTER, 203) });
      const second = await createSocketAgent(204, otherClusterProps, 'true');
      expect(second).toEqual({
        kind: 'deferred',
        reason: expect.stringContaining(`the engine's socket slot is used by agent ${agentIdFor(CLUSTER, 203)}`),
      });
      expect((await createSocketAgent(205, clusterProps, 'true')).kind).toBe('deferred');
      expect(await backend.list(parseClusterProfile(otherClusterProps))).toEqual([]);

      await service.jobCompleted({
        elasticAgentId: agentIdFor(CLUSTER, 203),
        job: job(203),
        clusterProperties: clusterProps,
      });
      expect((await createSocketAgent(204, otherClusterProps, 'true')).kind).toBe('launched');
    });

    it('concurrent socket-mode create-agents for different jobs start exactly one agent; the rest are deferred and leave no container', async () => {
      const results = await Promise.all([
        createSocketAgent(206, clusterProps, 'true'),
        createSocketAgent(207, otherClusterProps, 'true'),
        createSocketAgent(208, otherClusterProps, 'true'),
      ]);
      expect(results.filter((r) => r.kind === 'launched')).toHaveLength(1);
      expect(results.filter((r) => r.kind === 'deferred')).toHaveLength(2);
      const agents = await docker.listContainers({
        all: true,
        filters: { label: ['gocd-agent-scaler.docker-mode=socket', 'gocd-agent-scaler.role=agent'] },
      });
      expect(agents).toHaveLength(1);
      expect((await readSocketSlot(docker))?.keeper).toBe(agents[0]?.Id);
    });

    it('an agent killed from outside has its children removed at the next server-ping, and a new socket agent can start', async () => {
      const before = await unrelated('before-kill');
      const agent = await launched(await createSocketAgent(209));
      await jobDone(agent.ref);
      const started = await childrenOf('child');
      expect(started).toHaveLength(3);

      await docker.getContainer(agent.ref).kill();
      await waitFor(
        'the agent container to exit',
        async () => (await docker.getContainer(agent.ref).inspect()).State.Status === 'exited',
      );
      // The children outlive their agent until the service notices.
      expect(await childrenOf('child')).toHaveLength(3);

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
      expect(await childrenOf('child')).toEqual([]);
      expect(await exists(agent.ref)).toBe(false);
      expect((await docker.getContainer(before).inspect()).State.Running).toBe(true);
      expect((await createSocketAgent(210, clusterProps, 'true')).kind).toBe('launched');
    });

    it('a stale claim whose keeper has exited is recovered by the next launch of another cluster: the dead agent’s children are removed first, then the new agent starts', async () => {
      const dead = await launched(await createSocketAgent(211, clusterProps, jobStarting(2, 'dead')));
      await jobDone(dead.ref);
      await docker.getContainer(dead.ref).kill();
      await waitFor(
        'the agent to exit',
        async () => (await docker.getContainer(dead.ref).inspect()).State.Status === 'exited',
      );

      // No server-ping for the dead agent's cluster (its profile may be gone): the other cluster's launch recovers.
      const next = await launched(await createSocketAgent(212, otherClusterProps, jobStarting(1, 'next')));
      expect(await childrenOf('dead')).toEqual([]);
      expect(await exists(dead.ref)).toBe(false);
      expect((await readSocketSlot(docker))?.keeper).toBe(next.ref);
      await jobDone(next.ref);
      expect(await childrenOf('next')).toHaveLength(1);
    });

    it('a stale claim whose keeper no longer exists (its scaler crashed before releasing it) is removed by the next launch', async () => {
      const stale = await claimByHand('f'.repeat(64), 'ea-1-deadbeef');
      const agent = await launched(await createSocketAgent(213, clusterProps, 'true'));
      expect(await exists(stale)).toBe(false);
      expect(await readSocketSlot(docker)).toMatchObject({ keeper: agent.ref, holder: agentIdFor(CLUSTER, 213) });
    });

    it('a claim whose keeper is still running is never taken over: the launch is deferred and the holder keeps everything', async () => {
      const holder = await launched(await createSocketAgent(214, clusterProps, jobStarting(1, 'holder')));
      await jobDone(holder.ref);
      expect((await createSocketAgent(215, otherClusterProps, 'true')).kind).toBe('deferred');
      expect((await readSocketSlot(docker))?.keeper).toBe(holder.ref);
      expect(await childrenOf('holder')).toHaveLength(1);
      expect((await docker.getContainer(holder.ref).inspect()).State.Running).toBe(true);
    });

    it('children are bounded by the next claim: containers created after another keeper’s slot are never counted as the earlier agent’s', async () => {
      // The engine's own creation order, by hand: agent A, A's child, a claim kept by someone else, a later container.
      const a = await unrelated('bound-agent');
      const aChild = await unrelated('bound-a-child');
      const foreign = await claimByHand('someone-else', '');
      const later = await unrelated('bound-later');
      expect((await findSocketChildren(docker, a)).map((c) => c.Id)).toEqual([aChild]);
      // A's own claim is no bound: with A as the keeper, the later container counts again.
      expect((await findSocketChildren(docker, a, 'someone-else')).map((c) => c.Id).sort()).toEqual(
        [aChild, later].sort(),
      );
      await docker.getContainer(foreign).remove({ force: true });
    });

    describe('stop agent A, start agent B on the same engine while A’s cleanup runs', () => {
      /**
       * Another scaler process (its own backend and AgentService) on the same engine whose engine calls are held at one
       * point: the `held`-th listing of an agent's children (`since=<agent>`). While held, its teardown of that agent is
       * provably still running.
       */
      function heldProcess(held: number) {
        let release!: () => void;
        const gate = new Promise<void>((r) => {
          release = r;
        });
        let reachedGate!: () => void;
        const atGate = new Promise<void>((r) => {
          reachedGate = r;
        });
        let sinceListings = 0;
        const heldDocker = new Proxy(docker, {
          get(target, prop, receiver) {
            const value = Reflect.get(target, prop, receiver);
            if (prop !== 'listContainers') return typeof value === 'function' ? value.bind(target) : value;
            return async (opts: Docker.ContainerListOptions) => {
              const since = (opts?.filters as { since?: string[] } | undefined)?.since;
              if (since && ++sinceListings === held) {
                reachedGate();
                await gate;
              }
              return target.listContainers(opts);
            };
          },
        });
        const backendA = new DockerBackendClass(heldDocker, engineAddress(engine.dockerHost), {
          logger,
          stopSeconds: 1,
        });
        const processA = edgeService(backendA, { logger });
        return { processA, atGate, release: () => release() };
      }

      it('B’s launch waits while A still runs; once A’s agent has stopped, B starts (A’s children already gone) and B’s children survive A’s cleanup', async () => {
        // Held at the second children listing (the late sweep): A's agent and children are stopped by then.
        const { processA, atGate, release } = heldProcess(2);
        const a = await launched(await createSocketAgent(220, clusterProps, jobStarting(2, 'A'), processA));
        await jobDone(a.ref);
        expect(await childrenOf('A')).toHaveLength(2);

        // Process A stops agent A; its teardown is held after the first sweep (A's agent and children stopped).
        let aCleanupDone = false;
        const stopA = processA
          .jobCompleted({ elasticAgentId: agentIdFor(CLUSTER, 220), job: job(220), clusterProperties: clusterProps })
          .then(() => {
            aCleanupDone = true;
          });
        await atGate;

        // Process B (another scaler) launches agent B meanwhile: A's agent has ended, so B recovers the slot after
        // finishing A's cleanup itself, and starts.
        const b = await launched(await createSocketAgent(221, otherClusterProps, jobStarting(2, 'B')));
        expect(aCleanupDone, 'A’s cleanup is still running while B starts').toBe(false);
        expect(await childrenOf('A'), 'A’s children are gone before B runs').toEqual([]);
        await jobDone(b.ref);
        expect(await childrenOf('B')).toHaveLength(2);

        release();
        await stopA;
        const bChildren = await childrenOf('B');
        expect(bChildren.map((c) => c.State)).toEqual(['running', 'running']);
        expect((await docker.getContainer(b.ref).inspect()).State.Running).toBe(true);
        expect((await readSocketSlot(docker))?.keeper, 'A’s late release leaves B’s claim alone').toBe(b.ref);
      });

      it('while A’s agent is still running its cleanup, B is deferred: a socket agent never starts beside one that is stopping', async () => {
        // Held at the first children listing: A's agent has not been stopped yet.
        const { processA, atGate, release } = heldProcess(1);
        const a = await launched(await createSocketAgent(222, clusterProps, jobStarting(1, 'A2'), processA));
        await jobDone(a.ref);
        const stopA = processA.jobCompleted({
          elasticAgentId: agentIdFor(CLUSTER, 222),
          job: job(222),
          clusterProperties: clusterProps,
        });
        await atGate;
        expect(await createSocketAgent(223, otherClusterProps, 'true')).toEqual({
          kind: 'deferred',
          reason: expect.stringContaining(agentIdFor(CLUSTER, 222)),
        });
        release();
        await stopA;
        expect(await childrenOf('A2')).toEqual([]);
        expect((await createSocketAgent(223, otherClusterProps, 'true')).kind).toBe('launched');
      });
    });
  },
);
