import { execFileSync } from 'node:child_process';
import type Docker from 'dockerode';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { EcsBackend } from '../../src/backends/ecs/ecs-backend.js';
import {
  cleanupRun,
  execIn,
  localDocker,
  RUN_LABEL,
  runId,
  waitFor,
  waitForJobScript,
} from '../support/docker-engine.js';
import {
  dockerTestImagesReady,
  ensureDindAgentImage,
  ensureTestImages,
  type TestImages,
} from '../support/docker-images.js';
import { type LocalEcs, startLocalEcs, waitForTask } from '../support/fake-ecs/local-ecs.js';
import { ECS_LABEL } from '../support/fake-ecs/local-engine-runtime.js';
import { job } from '../support/gocd-bodies.js';
import { type EdgeService, edgeService } from '../support/profiles.js';

const ok = dockerTestImagesReady();

// The ECS backend end to end: AgentService → EcsBackend → the real ECS SDK → the loopback ECS endpoint, whose
// runtime runs each task definition on the shared Docker engine as the ECS agent would (test/support/fake-ecs).
// The agent images run as `go` (uid 1000, gid 0) like GoCD's. Every container here carries this run's label; none
// of these modes looks at containers it did not create. Socket mode runs on a private engine: ecs-socket.e2e.test.ts.
const RUN = runId('e2ee');
const CLUSTER = RUN;

/** The job a sidecar agent runs (as go): its daemon, a child with the job's working directory mounted. */
const SIDECAR_JOB = [
  'set -e',
  'i=0; until docker version >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 300 ] || exit 3; sleep 0.2; done',
  'docker import /opt/busybox.tar bb:1 >/dev/null',
  'mkdir -p job && cd job && echo from-the-job > input.txt',
  'docker run --rm --network none -v "$PWD":/src bb:1 cat /src/input.txt > out.txt',
  'docker run -d --network none --name leftover bb:1 sleep 4242101 >/dev/null',
].join('; ');

/** The job a privileged-mode agent runs (as go) against the daemon in its own container. */
const PRIVILEGED_JOB = [
  'set -e',
  'id -u > /tmp/job.uid',
  'i=0; until docker version >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 300 ] || exit 3; sleep 0.2; done',
  'docker import /opt/busybox.tar bb:1 >/dev/null',
  'docker run --rm --network none bb:1 echo nested-ok > /tmp/nested.out',
].join('; ');

function sleeperRuns(marker: number): boolean {
  const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return ps.split('\n').some((l) => l.trim() === `sleep ${marker}`);
}

describe.skipIf(!ok)(
  'ECS backend, tasks run on the local engine: each Docker mode with a non-root agent',
  {
    timeout: 180_000,
  },
  () => {
    const docker: Docker = localDocker();
    const logger = pino({ level: 'silent' });
    let images: TestImages;
    let dindAgent: string;
    let ecs: LocalEcs;
    let service: EdgeService;
    const clusterProps = {
      go_server_url: 'https://gocd.example.com/go',
      cluster_id: CLUSTER,
      cluster: `${RUN}-cluster`,
      allow_privileged: 'true',
      max_agents: '10',
    };

    beforeAll(async () => {
      images = await ensureTestImages();
      dindAgent = await ensureDindAgentImage();
      // An ECS host set up for capability-form Docker daemons (README: its dockerd runs with an unconfined seccomp
      // profile and no AppArmor confinement, which a task definition cannot ask for).
      ecs = await startLocalEcs(docker, RUN, {
        instanceSecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
        clusters: [`${RUN}-cluster`],
      });
      const backend = new EcsBackend(ecs.client, { logger, missingRetryDelaysMs: [50, 100] });
      service = edgeService(backend, { logger });
    });
    afterAll(async () => {
      await ecs?.stop();
      await cleanupRun(docker, RUN, []);
    });

    async function launch(jobId: number, profileProperties: Record<string, string>) {
      const result = await service.createAgent({
        autoRegisterKey: `key-${jobId}`,
        job: job(jobId),
        clusterProperties: clusterProps,
        profileProperties,
      });
      if (result.kind !== 'launched') throw new Error(`expected launched, got ${JSON.stringify(result)}`);
      const task = await waitForTask(ecs.client, clusterProps.cluster, result.agent.ref, 'RUNNING', (t) =>
        ['RUNNING', 'STOPPED'].includes(t.lastStatus ?? ''),
      );
      if (task.lastStatus !== 'RUNNING') throw new Error(`task stopped: ${task.stopCode} ${task.stoppedReason}`);
      const id = (name: string) => task.containers?.find((c) => c.name === name)?.runtimeId ?? '';
      return { task, agent: id('agent'), dind: id('dind') };
    }

    async function complete(jobId: number, taskArn: string) {
      await service.jobCompleted({
        elasticAgentId: agentIdFor(CLUSTER, jobId),
        job: job(jobId),
        clusterProperties: clusterProps,
      });
      return waitForTask(ecs.client, clusterProps.cluster, taskArn, 'STOPPED', (t) => t.lastStatus === 'STOPPED');
    }

    it('none: create-agent runs the registered definition as an ECS task on the engine; the agent runs as go with the job’s GO_EA_* variables; job-completion stops it', async () => {
      const { task, agent } = await launch(601, {
        image: images.agent,
        environment: 'FROM_PROFILE=p\nFAKE_AGENT_JOB=id -u; id -g',
      });
      const info = await docker.getContainer(agent).inspect();
      expect(info.Config.Labels).toMatchObject({
        [ECS_LABEL.taskArn]: task.taskArn,
        [ECS_LABEL.containerName]: 'agent',
        [RUN_LABEL]: RUN,
      });
      expect(info.Config.Env).toEqual(
        expect.arrayContaining([
          'GO_EA_SERVER_URL=https://gocd.example.com/go',
          'GO_EA_AUTO_REGISTER_KEY=key-601',
          `GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID=${agentIdFor(CLUSTER, 601)}`,
          'GO_EA_AUTO_REGISTER_ELASTIC_PLUGIN_ID=gocd-agent-scaler',
          'FROM_PROFILE=p',
        ]),
      );
      expect(info.HostConfig.Privileged).toBe(false);
      await waitForJobScript(docker, agent);
      expect((await execIn(docker, agent, ['cat', '/tmp/job.log'])).output.trim().split('\n')).toEqual(['1000', '0']);
      const done = await complete(601, task.taskArn!);
      expect(done.stopCode).toBe('UserInitiated');
      expect(
        await docker.listContainers({ all: true, filters: { label: [`${ECS_LABEL.taskArn}=${task.taskArn}`] } }),
      ).toEqual([]);
    });

    it('privileged in the capability form: no --privileged, exactly the named capabilities; the job, as go, runs a container on the agent’s own daemon', async () => {
      const { task, agent } = await launch(602, {
        image: dindAgent,
        docker_mode: 'privileged',
        capabilities: 'SYS_ADMIN,NET_ADMIN',
        environment: `FAKE_AGENT_JOB=${PRIVILEGED_JOB}`,
      });
      const info = await docker.getContainer(agent).inspect();
      expect(info.HostConfig.Privileged).toBe(false);
      expect(info.HostConfig.CapAdd).toEqual(['SYS_ADMIN', 'NET_ADMIN']);
      await waitForJobScript(docker, agent, 120_000);
      expect((await execIn(docker, agent, ['cat', '/tmp/job.uid'])).output.trim()).toBe('1000');
      expect((await execIn(docker, agent, ['cat', '/tmp/nested.out'])).output.trim()).toBe('nested-ok');
      await complete(602, task.taskArn!);
    });

    it('sidecar: the job, as go, runs `docker run -v $PWD:/src` against the DinD daemon of its task and sees its workspace; the task’s volumes and the nested child go with the task', async () => {
      const { task, agent, dind } = await launch(603, {
        image: images.agent,
        docker_mode: 'sidecar',
        dind_image: images.dind,
        capabilities: 'SYS_ADMIN,NET_ADMIN',
        environment: `FAKE_AGENT_JOB=${SIDECAR_JOB}`,
      });
      const [agentInfo, dindInfo] = await Promise.all([agent, dind].map((id) => docker.getContainer(id).inspect()));
      expect(agentInfo!.Config.Env).toContain('DOCKER_HOST=unix:///var/run/dind/docker.sock');
      expect(agentInfo!.HostConfig.Privileged).toBe(false);
      expect(dindInfo!.HostConfig).toMatchObject({ Privileged: false, CapAdd: ['SYS_ADMIN', 'NET_ADMIN'] });
      // The agent started only once the daemon was healthy (dependsOn HEALTHY).
      expect(new Date(agentInfo!.State.StartedAt).getTime()).toBeGreaterThan(
        new Date(dindInfo!.State.StartedAt).getTime(),
      );
      const volumes = async () =>
        ((await docker.listVolumes({ filters: { label: [`${RUN_LABEL}=${RUN}`] } })).Volumes ?? [])
          .map((v) => v.Name)
          .filter((n) => n.startsWith(`ecs-${task.taskDefinitionArn!.split('/').pop()!.replace(':', '-')}-`));
      expect(
        (await volumes())
          .map((n) =>
            n
              .replace(/-[0-9a-f]{20}$/, '')
              .split('-')
              .pop(),
          )
          .sort(),
      ).toEqual(['socket', 'workspace']);

      await waitForJobScript(docker, agent, 120_000);
      expect((await execIn(docker, agent, ['cat', '/godata/job/out.txt'])).output.trim()).toBe('from-the-job');
      expect(sleeperRuns(4242101)).toBe(true);
      await complete(603, task.taskArn!);
      expect(await volumes()).toEqual([]);
      await waitFor('the nested child process to be gone', async () => !sleeperRuns(4242101), 20_000);
    });
  },
);
