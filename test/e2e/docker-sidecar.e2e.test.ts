import { execFileSync } from 'node:child_process';
import type Docker from 'dockerode';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { containerNameFor, sidecarNamesFor } from '../../src/backends/docker/container-spec.js';
import { createDockerBackend, type DockerBackend } from '../../src/backends/docker/docker-backend.js';
import {
  cleanupRun,
  dockerClusterProps,
  execIn,
  localDocker,
  runId,
  waitFor,
  waitForJobScript,
} from '../support/docker-engine.js';
import { ensureTestImages, type TestImages, testImagePrereqs } from '../support/docker-images.js';
import { job } from '../support/gocd-bodies.js';
import { type EdgeService, edgeService, dockerCluster as parseClusterProfile } from '../support/profiles.js';
import { dockerAvailable, requireService } from '../support/services.js';

const ok =
  requireService('Docker engine', dockerAvailable(), 'install docker.io and start dockerd (see .ci/run)') &&
  requireService('busybox-static and docker.io binaries', testImagePrereqs() === undefined, String(testImagePrereqs()));

const RUN = runId('e2ed');
const CLUSTER = RUN;

/**
 * The job a sidecar agent runs: wait for its DinD daemon, load a busybox image into it (no registry here), mount the
 * job's working directory into a child with `docker run -v $PWD:/src`, and leave a long-running child behind whose
 * command line carries `marker` so the test can look for its process on the host.
 */
function sidecarJob(marker: number): string {
  return [
    'set -e',
    'i=0; until docker version >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 150 ] || exit 3; sleep 0.2; done',
    'docker import /opt/busybox.tar bb:1 >/dev/null',
    'mkdir -p job && cd job && echo from-the-job > input.txt',
    'docker run --rm --network none -v "$PWD":/src bb:1 cat /src/input.txt > out.txt',
    `docker run -d --network none --name leftover bb:1 sleep ${marker} >/dev/null`,
  ].join('; ');
}

/** Whether a process whose command line is `sleep <marker>` runs on this host (nested containers' processes do). */
function sleeperRuns(marker: number): boolean {
  const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return ps.split('\n').some((l) => l.trim() === `sleep ${marker}`);
}

describe.skipIf(!ok)('sidecar mode on a real engine: a DinD daemon per agent', () => {
  let docker: Docker;
  let images: TestImages;
  let backend: DockerBackend;
  let service: EdgeService;
  const logger = pino({ level: 'silent' });
  const clusterProps = dockerClusterProps(CLUSTER, { allow_privileged: 'true' });

  beforeAll(async () => {
    docker = localDocker();
    images = await ensureTestImages();
    backend = await createDockerBackend({}, logger, { stopSeconds: 1 });
    service = edgeService(backend, { logger });
    await cleanupRun(docker, RUN, [CLUSTER]);
  });
  afterEach(async () => cleanupRun(docker, RUN, [CLUSTER]));
  afterAll(async () => {
    if (docker) await cleanupRun(docker, RUN, [CLUSTER]);
  });

  async function createSidecarAgent(jobId: number, marker: number) {
    const result = await service.createAgent({
      autoRegisterKey: `key-${jobId}`,
      job: job(jobId),
      clusterProperties: clusterProps,
      profileProperties: {
        image: images.agent,
        docker_mode: 'sidecar',
        dind_image: images.dind,
        // This machine cannot run --privileged containers; the capability form is what an operator would choose too.
        capabilities: 'SYS_ADMIN,NET_ADMIN',
        environment: `FAKE_AGENT_JOB=${sidecarJob(marker)}`,
      },
    });
    if (result.kind !== 'launched') throw new Error(`expected launched, got ${JSON.stringify(result)}`);
    return result.agent;
  }

  const jobDone = (agentRef: string) => waitForJobScript(docker, agentRef, 60_000);

  async function volumesOf(agentId: string): Promise<string[]> {
    const { Volumes } = await docker.listVolumes({ filters: { label: [`gocd-agent-scaler.agent-id=${agentId}`] } });
    return (Volumes ?? []).map((v) => v.Name).sort();
  }

  async function containersOf(agentId: string): Promise<Docker.ContainerInfo[]> {
    return docker.listContainers({ all: true, filters: { label: [`gocd-agent-scaler.agent-id=${agentId}`] } });
  }

  it('the agent runs `docker run -v $PWD:/src` against its own DinD daemon through the shared socket and workspace, and the child dies with the agent', async () => {
    const marker = 4242001;
    const agent = await createSidecarAgent(301, marker);
    const agentId = agentIdFor(CLUSTER, 301);
    const names = sidecarNamesFor(containerNameFor(CLUSTER, 301));

    const agentInfo = await docker.getContainer(agent.ref).inspect();
    const dindInfo = await docker.getContainer(names.dind).inspect();
    expect(agentInfo.Config.Env).toContain('DOCKER_HOST=unix:///var/run/dind/docker.sock');
    expect(agentInfo.HostConfig.Privileged).toBe(false);
    expect(agentInfo.HostConfig.CapAdd ?? []).toEqual([]);
    const mounts = (info: Docker.ContainerInspectInfo) => info.Mounts.map((m) => `${m.Name}:${m.Destination}`).sort();
    expect(mounts(agentInfo)).toEqual([`${names.socketVolume}:/var/run/dind`, `${names.workspaceVolume}:/godata`]);
    expect(mounts(dindInfo)).toEqual(mounts(agentInfo));
    expect(dindInfo.Config.Labels).toMatchObject({
      'gocd-agent-scaler.agent-id': agentId,
      'gocd-agent-scaler.cluster-id': CLUSTER,
      'gocd-agent-scaler.job-id': '301',
      'gocd-agent-scaler.docker-mode': 'sidecar',
      'gocd-agent-scaler.role': 'dind',
    });
    expect(dindInfo.HostConfig.Privileged).toBe(false);
    expect(dindInfo.HostConfig.CapAdd).toEqual(['SYS_ADMIN', 'NET_ADMIN']);
    expect(dindInfo.HostConfig.SecurityOpt).toEqual(['seccomp=unconfined', 'apparmor=unconfined']);
    expect(dindInfo.Config.Image).toBe(images.dind);
    expect(await volumesOf(agentId)).toEqual([names.socketVolume, names.workspaceVolume].sort());

    await jobDone(agent.ref);
    // The child read the job's file through the shared workspace: $PWD means the same files to the daemon.
    expect((await execIn(docker, agent.ref, ['cat', '/godata/job/out.txt'])).output.trim()).toBe('from-the-job');
    const ps = await execIn(docker, agent.ref, ['docker', 'ps', '--format', '{{.Names}}']);
    expect(ps.output.trim()).toBe('leftover');
    // The nested child is invisible to the host engine (it lives in the DinD daemon) but its process runs here.
    expect(await docker.listContainers({ filters: { name: ['leftover'] } })).toEqual([]);
    expect(sleeperRuns(marker)).toBe(true);

    await service.jobCompleted({ elasticAgentId: agentId, job: job(301), clusterProperties: clusterProps });
    expect(await containersOf(agentId)).toEqual([]);
    expect(await volumesOf(agentId)).toEqual([]);
    await waitFor('the nested child process to be gone', async () => !sleeperRuns(marker), 10_000);
    expect(await backend.list(parseClusterProfile(clusterProps))).toEqual([]);
  });

  it('a sidecar agent killed from outside loses its DinD daemon, its nested child and its volumes at the next server-ping', async () => {
    const marker = 4242002;
    const agent = await createSidecarAgent(302, marker);
    const agentId = agentIdFor(CLUSTER, 302);
    await jobDone(agent.ref);
    expect(sleeperRuns(marker)).toBe(true);

    await docker.getContainer(agent.ref).kill();
    await waitFor(
      'the agent container to exit',
      async () => (await docker.getContainer(agent.ref).inspect()).State.Status === 'exited',
    );
    expect((await containersOf(agentId)).map((c) => c.Labels['gocd-agent-scaler.role']).sort()).toEqual([
      'agent',
      'dind',
    ]);

    await service.serverPing([clusterProps], undefined);
    expect(await containersOf(agentId)).toEqual([]);
    expect(await volumesOf(agentId)).toEqual([]);
    await waitFor('the nested child process to be gone', async () => !sleeperRuns(marker), 10_000);
  });
});
