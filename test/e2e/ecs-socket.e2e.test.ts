import type Docker from 'dockerode';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { claimSocketSlot, readSocketSlot, SOCKET_SLOT_NAME } from '../../src/backends/docker/socket-slot.js';
import { EcsBackend } from '../../src/backends/ecs/ecs-backend.js';
import { cleanupRun, execIn, localDocker, runId, waitFor, waitForJobScript } from '../support/docker-engine.js';
import {
  dockerTestImagesReady,
  ensureJanitorImage,
  ensureTestImages,
  type TestImages,
} from '../support/docker-images.js';
import { type LocalEcs, startLocalEcs, waitForTask } from '../support/fake-ecs/local-ecs.js';
import { ECS_LABEL } from '../support/fake-ecs/local-engine-runtime.js';
import { job } from '../support/gocd-bodies.js';
import { type PrivateEngine, removeEverything, startPrivateEngine } from '../support/private-engine.js';
import { type EdgeService, edgeService } from '../support/profiles.js';

const ok = dockerTestImagesReady({ janitor: true });

// ECS socket mode end to end, on a private engine (test/support/private-engine.ts) standing in for one ECS container
// instance: the janitor attributes "containers created since the agent" engine-wide, which on the shared engine would
// include other suites' and other people's containers. The loopback ECS endpoint's runtime runs the tasks there the
// way the ECS agent would; the agent image runs as go (uid 1000), which cannot open the engine's root:2999 socket.
const RUN = runId('e2ek');
const CLUSTER = RUN;

describe.skipIf(!ok)(
  'ECS socket mode on one container instance: the janitor, the slot and the non-root agent',
  {
    timeout: 240_000,
  },
  () => {
    let engine: PrivateEngine;
    let docker: Docker;
    let images: TestImages;
    let janitorImage: string;
    let ecs: LocalEcs;
    let service: EdgeService;
    const logger = pino({ level: 'silent' });
    let clusterProps: Record<string, string>;

    beforeAll(async () => {
      images = await ensureTestImages();
      janitorImage = await ensureJanitorImage();
      engine = await startPrivateEngine(RUN);
      docker = engine.docker;
      await engine.load(images.busybox, images.agent, janitorImage);
      // The private engine has no bridge: its containers share the engine container's network namespace, from which
      // the task metadata endpoint (on the shared engine's bridge gateway) is reachable. Agents that ignore SIGTERM
      // keep their task STOPPING until the test kills them (ECS_CONTAINER_STOP_TIMEOUT 600 s here).
      ecs = await startLocalEcs(docker, RUN, {
        networkFor: () => 'host',
        defaultStopTimeoutSeconds: 600,
        clusters: [`${RUN}-cluster`],
      });
      const backend = new EcsBackend(ecs.client, { logger, missingRetryDelaysMs: [50, 100] });
      service = edgeService(backend, { logger });
      clusterProps = {
        go_server_url: 'https://gocd.example.com/go',
        cluster_id: CLUSTER,
        cluster: `${RUN}-cluster`,
        allow_socket_mount: 'true',
        janitor_image: janitorImage,
        max_agents: '10',
      };
    });
    afterAll(async () => {
      await ecs?.stop();
      await engine?.stop();
      await cleanupRun(localDocker(), RUN, []);
    });

    /** A job that starts `n` detached containers labelled job=<tag> through the engine (as go, via DOCKER_HOST). */
    const starting = (n: number, tag: string) =>
      `id -u > /tmp/uid; for i in $(seq 1 ${n}); do docker run -d --network none --label job=${tag} ${images.busybox} sleep 600 || exit 1; done`;

    async function createSocketAgent(jobId: number, script: string, extraEnv = '') {
      return service.createAgent({
        autoRegisterKey: `key-${jobId}`,
        job: job(jobId),
        clusterProperties: clusterProps,
        profileProperties: {
          image: images.agent,
          docker_mode: 'socket',
          environment: `FAKE_AGENT_JOB=${script}${extraEnv ? `\n${extraEnv}` : ''}`,
        },
      });
    }

    const describeTask = (arn: string) => waitForTask(ecs.client, clusterProps.cluster, arn, 'described', () => true);
    const whenRunning = (arn: string) =>
      waitForTask(ecs.client, clusterProps.cluster, arn, 'RUNNING', (t) => t.lastStatus === 'RUNNING', 120_000);
    const whenStopped = (arn: string) =>
      waitForTask(ecs.client, clusterProps.cluster, arn, 'STOPPED', (t) => t.lastStatus === 'STOPPED', 120_000);
    const containerOf = (task: { containers?: { name?: string; runtimeId?: string }[] }, name: string) =>
      task.containers?.find((c) => c.name === name)?.runtimeId;
    const childrenOf = (tag: string) => docker.listContainers({ all: true, filters: { label: [`job=${tag}`] } });

    async function launchedTask(jobId: number, script: string, extraEnv = ''): Promise<string> {
      const result = await createSocketAgent(jobId, script, extraEnv);
      if (result.kind !== 'launched') throw new Error(`expected launched, got ${JSON.stringify(result)}`);
      return result.agent.ref;
    }

    async function complete(jobId: number) {
      await service.jobCompleted({
        elasticAgentId: agentIdFor(CLUSTER, jobId),
        job: job(jobId),
        clusterProperties: clusterProps,
      });
    }

    describe('through the scaler', () => {
      afterEach(async () => {
        await ecs.runtime.settled();
      });

      it('the non-root agent uses the engine through the janitor’s proxy; the containers its job started are removed when the task stops, an older container survives, and the slot is released', async () => {
        const bystander = await docker.createContainer({
          Image: images.busybox,
          Cmd: ['sleep', '600'],
          HostConfig: { NetworkMode: 'none' },
        });
        await bystander.start();
        const arn = await launchedTask(701, starting(2, 's1'));
        const task = await whenRunning(arn);
        const agent = containerOf(task, 'agent')!;
        const janitor = containerOf(task, 'janitor')!;
        const [agentInfo, janitorInfo] = await Promise.all(
          [agent, janitor].map((id) => docker.getContainer(id).inspect()),
        );
        // The agent never sees the host socket; the janitor (root) does and serves it on the task-private proxy.
        expect(agentInfo!.Mounts.map((m) => m.Destination)).toEqual(['/var/run/gocd-agent-scaler']);
        expect(agentInfo!.Config.Env).toContain('DOCKER_HOST=unix:///var/run/gocd-agent-scaler/docker.sock');
        expect(janitorInfo!.Mounts.map((m) => m.Destination).sort()).toEqual([
          '/var/run/docker.sock',
          '/var/run/gocd-agent-scaler',
        ]);
        expect(
          new Date(agentInfo!.State.StartedAt).getTime(),
          'the agent starts once the janitor holds the slot',
        ).toBeGreaterThan(new Date(janitorInfo!.State.StartedAt).getTime());
        expect(await readSocketSlot(docker)).toMatchObject({ keeper: janitor, holder: arn });

        await waitForJobScript(docker, agent, 60_000);
        expect((await execIn(docker, agent, ['cat', '/tmp/uid'])).output.trim()).toBe('1000');
        expect((await childrenOf('s1')).map((c) => c.State)).toEqual(['running', 'running']);

        await complete(701);
        await whenStopped(arn);
        expect(await childrenOf('s1')).toEqual([]);
        expect((await bystander.inspect()).State.Running).toBe(true);
        expect(await readSocketSlot(docker)).toBeUndefined();
        await bystander.remove({ force: true });
      });

      it('a second socket agent is not placed while the first runs (DistinctInstance), and create-agent says so', async () => {
        const first = await launchedTask(702, 'true');
        await whenRunning(first);
        const second = await createSocketAgent(703, 'true');
        expect(second).toMatchObject({ kind: 'failed', reason: 'DistinctInstance placement constraint unsatisfied.' });
        await complete(702);
        await whenStopped(first);
      });

      it('stop agent A, start agent B on the same engine while A’s cleanup runs: B is placed beside the stopping A (as ECS does), its agent starts only after A’s janitor has cleaned up and released the slot, and B’s children survive', async () => {
        const a = await launchedTask(704, starting(2, 'A'), 'FAKE_AGENT_IGNORE_TERM=1');
        const aTask = await whenRunning(a);
        const aAgent = containerOf(aTask, 'agent')!;
        const aJanitor = containerOf(aTask, 'janitor')!;
        await waitForJobScript(docker, aAgent, 60_000);
        expect(await childrenOf('A')).toHaveLength(2);

        // A's agent ignores SIGTERM (a long job step): A stays STOPPING until the test kills it.
        await complete(704);
        expect(await describeTask(a)).toMatchObject({ desiredStatus: 'STOPPED', lastStatus: 'STOPPING' });

        // ECS's distinctInstance ignores A (desired STOPPED): B is placed on the same instance at once.
        const b = await launchedTask(705, starting(2, 'B'));
        const bWaiting = await waitForTask(ecs.client, clusterProps.cluster, b, 'its janitor to run', (t) =>
          Boolean(containerOf(t, 'janitor')),
        );
        expect(bWaiting.lastStatus).toBe('PENDING');
        expect(containerOf(bWaiting, 'agent'), 'B’s agent waits for the slot').toBeUndefined();
        expect((await readSocketSlot(docker))?.keeper).toBe(aJanitor);
        expect(await childrenOf('A'), 'A’s cleanup has not run yet').toHaveLength(2);

        // A's agent ends; ECS stops A's janitor after it, which cleans up and releases the slot; then B's agent starts.
        await docker.getContainer(aAgent).kill();
        const bTask = await whenRunning(b);
        expect(await childrenOf('A'), 'A’s children were gone before B’s agent started').toEqual([]);
        const bAgent = containerOf(bTask, 'agent')!;
        await waitForJobScript(docker, bAgent, 60_000);
        await whenStopped(a);
        expect((await childrenOf('B')).map((c) => c.State)).toEqual(['running', 'running']);
        expect((await readSocketSlot(docker))?.keeper).toBe(containerOf(bTask, 'janitor'));

        await complete(705);
        await whenStopped(b);
        expect(await childrenOf('B')).toEqual([]);
      });
    });

    describe('the janitor script (docker/janitor) against the engine, without the ECS runtime', () => {
      afterEach(async () => removeEverything(docker));

      async function sleeper(name: string, labels: Record<string, string> = {}): Promise<string> {
        const c = await docker.createContainer({
          name: `${RUN}-${name}`,
          Image: images.busybox,
          Cmd: ['sleep', '600'],
          Labels: labels,
          HostConfig: { NetworkMode: 'none' },
        });
        await c.start();
        return c.id;
      }

      /** A janitor told its own and its agent's container names (no ECS metadata), the engine socket mounted. */
      async function janitor(name: string, agent: string): Promise<Docker.Container> {
        const c = await docker.createContainer({
          name: `${RUN}-${name}`,
          Image: janitorImage,
          Env: [`JANITOR_SELF=${RUN}-${name}`, `JANITOR_AGENT_CONTAINER=${agent}`, 'JANITOR_STOP_TIMEOUT=1'],
          HostConfig: { NetworkMode: 'none', Binds: ['/var/run/docker.sock:/var/run/docker.sock'] },
        });
        await c.start();
        return c;
      }

      /** A claim of the engine's socket slot made by someone else (another scaler process, a janitor …); its id. */
      async function claimByHand(keeper: string, holder: string): Promise<string> {
        const claim = await claimSocketSlot(docker, { keeper, holder, image: images.busybox });
        if (claim.kind !== 'claimed') throw new Error('the socket slot is already held');
        return claim.slot.id;
      }

      const logsOf = async (c: Docker.Container) => (await c.logs({ stdout: true, stderr: true })).toString('utf8');
      const health = async (c: Docker.Container) =>
        (await execIn(docker, c.id, ['/usr/local/bin/gocd-janitor', 'health'])).exitCode;

      async function sigterm(c: Docker.Container): Promise<string> {
        await c.kill({ signal: 'SIGTERM' });
        const { StatusCode } = (await c.wait()) as { StatusCode: number };
        expect(StatusCode).toBe(0);
        return logsOf(c);
      }

      it('removes what was created after its agent and before a later claim, sparing older, later, ECS-managed and scaler-labelled containers and itself', async () => {
        const older = await sleeper('older');
        const j = await janitor('j1', `${RUN}-agent1`);
        await waitFor('the janitor to hold the slot', async () => (await health(j)) === 0, 30_000);
        const agent = await sleeper('agent1');
        const child = await sleeper('child1');
        const ecsManaged = await sleeper('ecs1', { [ECS_LABEL.taskArn]: 'arn:aws:ecs:us-east-1:1:task/c/other' });
        const scaler = await sleeper('scaler1', { 'gocd-agent-scaler.role': 'agent' });
        // The claim moves on (removed by hand here); whatever follows the next claim is someone else's.
        await docker.getContainer(SOCKET_SLOT_NAME).remove({ force: true });
        const next = await claimByHand('someone-else', '');
        const later = await sleeper('later1');
        const logs = await sigterm(j);
        expect(logs).toContain(`removed 1 container(s) started through the socket since agent ${agent}`);
        const exists = async (id: string) => (await docker.listContainers({ all: true, filters: { id: [id] } })).length;
        expect(await exists(child)).toBe(0);
        for (const id of [older, agent, ecsManaged, scaler, later, next, j.id]) expect(await exists(id)).toBe(1);
        expect((await readSocketSlot(docker))?.keeper, 'a claim it no longer holds is left alone').toBe('someone-else');
      });

      it('waits while a live keeper holds the slot (unhealthy meanwhile), and claims it once released', async () => {
        const holder = await sleeper('holder');
        await claimByHand(holder, '');
        const j = await janitor('j2', `${RUN}-agent2`);
        await waitFor(
          'the janitor to have tried',
          async () => (await logsOf(j)) !== '' || (await health(j)) !== 0,
          10_000,
        );
        expect(await health(j)).not.toBe(0);
        expect((await readSocketSlot(docker))?.keeper).toBe(holder);
        await docker.getContainer(SOCKET_SLOT_NAME).remove({ force: true });
        await waitFor('the janitor to claim the slot', async () => (await health(j)) === 0, 30_000);
        expect((await readSocketSlot(docker))?.keeper).toBe(j.id);
        expect(await sigterm(j)).toContain('released the socket slot');
        expect(await readSocketSlot(docker)).toBeUndefined();
      });

      it('a stale claim (its keeper exited before releasing): the new janitor removes the dead task’s children first, then claims', async () => {
        const deadTask = 'arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef';
        const older = await sleeper('older3');
        const deadKeeper = await sleeper('dead-janitor');
        const deadAgent = await sleeper('dead-agent', {
          [ECS_LABEL.taskArn]: deadTask,
          [ECS_LABEL.containerName]: 'agent',
        });
        const orphan = await sleeper('orphan');
        await claimByHand(deadKeeper, deadTask);
        await docker.getContainer(deadKeeper).kill();
        await docker.getContainer(deadAgent).kill();
        const j = await janitor('j3', `${RUN}-agent3`);
        await waitFor('the janitor to claim the slot', async () => (await health(j)) === 0, 30_000);
        expect(await logsOf(j)).toContain(`removed 1 container(s) left by ${deadTask}`);
        const exists = async (id: string) => (await docker.listContainers({ all: true, filters: { id: [id] } })).length;
        expect(await exists(orphan)).toBe(0);
        expect(await exists(older)).toBe(1);
        expect((await readSocketSlot(docker))?.keeper).toBe(j.id);
      });

      it('stopped before it holds the slot, it exits 0 and removes nothing', async () => {
        const holder = await sleeper('holder4');
        await claimByHand(holder, '');
        const agent = await sleeper('agent4');
        const j = await janitor('j4', `${RUN}-agent4`);
        const after = await sleeper('after4');
        const logs = await sigterm(j);
        expect(logs).toContain('nothing to clean up');
        const exists = async (id: string) => (await docker.listContainers({ all: true, filters: { id: [id] } })).length;
        expect(await exists(after)).toBe(1);
        expect(await exists(agent)).toBe(1);
        expect((await readSocketSlot(docker))?.keeper).toBe(holder);
      });
    });
  },
);
