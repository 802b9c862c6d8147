import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityLog } from '../../src/agents/activity-log.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { AgentService } from '../../src/agents/agent-service.js';
import {
  containerNameFor,
  DIND_DOCKER_HOST,
  LABEL,
  SIDECAR_WORKSPACE,
  sidecarNamesFor,
} from '../../src/backends/docker/container-spec.js';
import { createDockerBackend } from '../../src/backends/docker/docker-backend.js';
import {
  cleanupRun,
  containerExists,
  dockerCli,
  hostProcessesRunning,
  localDocker,
  runId,
  waitFor,
} from '../support/docker-engine.js';
import { ensureTestImages, type TestImages, testImagePrereqs } from '../support/docker-images.js';
import { job } from '../support/gocd-bodies.js';
import { singleBackend } from '../support/memory-backend.js';
import { dockerAvailable, requireService } from '../support/services.js';

const ok =
  requireService('Docker engine', dockerAvailable(), 'install docker.io and start dockerd (see .ci/run)') &&
  requireService('test image ingredients', testImagePrereqs() === undefined, testImagePrereqs() ?? '');

const run = runId('e2ed');
const clusterId = run;
const docker = localDocker();
const logger = pino({ level: 'silent' });
/** A sleep duration no other process on this host uses, to find the job's nested child in the host process table. */
const marker = String(30_000 + Math.floor(Math.random() * 9_999));

const clusterProps = {
  go_server_url: 'https://gocd.example.com/go',
  cluster_id: clusterId,
  allow_privileged: 'true',
};

/**
 * The job: waits for its daemon, loads busybox into it, writes a file in the shared workspace and reads it back
 * through `docker run -v $PWD:/src`, then leaves a long-running child behind in the DinD daemon.
 */
const sidecarJob = [
  'set -e',
  'i=0; until docker info >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 300 ]; sleep 0.2; done',
  'docker import /opt/busybox.tar job-busybox:1 >/dev/null',
  `mkdir -p ${SIDECAR_WORKSPACE}/pipelines/demo && cd ${SIDECAR_WORKSPACE}/pipelines/demo`,
  'echo from-the-job > input.txt',
  'docker run --rm -v "$PWD:/src" job-busybox:1 cat /src/input.txt > seen-by-child.txt',
  `docker run -d job-busybox:1 sleep ${marker}`,
].join('; ');

describe.skipIf(!ok)('sidecar mode on a real engine', () => {
  let images: TestImages;

  beforeAll(async () => {
    images = await ensureTestImages();
  });

  afterAll(async () => {
    await cleanupRun(docker, run, [clusterId]);
  });

  it('the agent runs `docker run -v $PWD:/src` against its own DinD daemon, and the child dies with the agent', async () => {
    const backend = await createDockerBackend({}, logger, { stopSeconds: 2 });
    const service = new AgentService({ backends: singleBackend(backend), activity: new ActivityLog(), logger });
    const result = await service.createAgent({
      autoRegisterKey: 'k',
      job: job(301),
      clusterProperties: clusterProps,
      profileProperties: {
        image: images.agent,
        docker_mode: 'sidecar',
        dind_image: images.dind,
        capabilities: 'SYS_ADMIN,NET_ADMIN',
        environment: `FAKE_AGENT_JOB=${sidecarJob}`,
      },
    });
    expect(result.kind).toBe('launched');
    const agentName = containerNameFor(clusterId, 301);
    const names = sidecarNamesFor(agentName);

    const agent = await docker.getContainer(agentName).inspect();
    expect(agent.Config.Env).toContain(`DOCKER_HOST=${DIND_DOCKER_HOST}`);
    expect(agent.HostConfig.Privileged).toBe(false);
    expect(agent.Mounts.map((m) => [m.Name, m.Destination]).sort()).toEqual(
      [
        [names.socketVolume, '/var/run/dind'],
        [names.workspaceVolume, SIDECAR_WORKSPACE],
      ].sort(),
    );
    const dind = await docker.getContainer(names.dind).inspect();
    expect(dind.Config.Labels).toMatchObject({ [LABEL.role]: 'dind', [LABEL.agentId]: agentIdFor(clusterId, 301) });
    expect(dind.HostConfig.CapAdd).toEqual(['SYS_ADMIN', 'NET_ADMIN']);

    const exit = await waitFor(
      'the job to finish',
      async () => (await dockerCli(['exec', agentName, 'cat', '/tmp/job.exit']).catch(() => '')) || undefined,
      90_000,
      500,
    );
    const log = await dockerCli(['exec', agentName, 'cat', '/tmp/job.log']).catch(() => '');
    expect(exit, log).toBe('0');
    // The child saw the job's file: the workspace is the same path on the daemon's side.
    expect(await dockerCli(['exec', agentName, 'cat', `${SIDECAR_WORKSPACE}/pipelines/demo/seen-by-child.txt`])).toBe(
      'from-the-job',
    );
    expect(await dockerCli(['exec', agentName, 'docker', 'ps', '--format', '{{.Command}}'])).toContain(marker);
    expect(hostProcessesRunning(`sleep ${marker}`)).toHaveLength(1);

    const actions = await service.jobCompleted({
      elasticAgentId: agentIdFor(clusterId, 301),
      job: job(301),
      clusterProperties: clusterProps,
    });
    expect(actions.delete).toEqual([agentIdFor(clusterId, 301)]);
    expect(await containerExists(docker, agentName)).toBe(false);
    expect(await containerExists(docker, names.dind)).toBe(false);
    const volumes = (await docker.listVolumes()).Volumes?.map((v) => v.Name) ?? [];
    expect(volumes).not.toContain(names.socketVolume);
    expect(volumes).not.toContain(names.workspaceVolume);
    await waitFor(
      'the nested child process to end',
      async () => hostProcessesRunning(`sleep ${marker}`).length === 0,
      10_000,
    );
  }, 180_000);
});
