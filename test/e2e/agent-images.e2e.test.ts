import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { containerNameFor } from '../../src/backends/docker/container-spec.js';
import { createDockerBackend, type DockerBackend } from '../../src/backends/docker/docker-backend.js';
import { type AgentImages, agentImagePrereqs, ensureAgentImages } from '../support/agent-images.js';
import {
  bridgeGatewayAddress,
  cleanupRun,
  containerLogs,
  dockerCli,
  dockerClusterProps,
  execIn,
  hostProcessesRunning,
  localDocker,
  RUN_LABEL,
  runId,
  waitFor,
  waitForJobScript,
} from '../support/docker-engine.js';
import { ensureTestImages, type TestImages, testImagePrereqs } from '../support/docker-images.js';
import { job } from '../support/gocd-bodies.js';
import { type EdgeService, edgeService } from '../support/profiles.js';
import { dockerAvailable, requireService } from '../support/services.js';

// The images of docker/agent/, built from their Dockerfiles on a stand-in GoCD agent base (test/support/agent-images.ts),
// run on the real engine: by the Docker backend as it launches agents, and the way ECS runs them (no --group-add,
// no cgroup prelude). This engine refuses --privileged (CAP_SYS_RESOURCE is outside its bounding set), so the
// privileged mode runs in its capability form, with the vfs storage driver (no overlay on this engine's overlay).

const run = promisify(execFile);
const ok =
  requireService('Docker engine', dockerAvailable(), 'install docker.io and start dockerd (see .ci/run)') &&
  requireService('agent image stand-in ingredients', agentImagePrereqs() === undefined, agentImagePrereqs() ?? '') &&
  requireService('test image ingredients', testImagePrereqs() === undefined, testImagePrereqs() ?? '');

const RUN = runId('e2ei');
const CLUSTER = RUN;
const GO_SERVER_URL = 'https://gocd.example.com/go';
const DAEMON_CAPS = ['SYS_ADMIN', 'NET_ADMIN'];
const logger = pino({ level: 'silent' });

/** Lines of `text` holding each needle, in order; fails naming the first needle missing after the previous one. */
function expectInOrder(text: string, needles: readonly string[]): void {
  let from = 0;
  for (const needle of needles) {
    const at = text.indexOf(needle, from);
    expect(at, `"${needle}" after offset ${from} in:\n${text}`).toBeGreaterThanOrEqual(0);
    from = at + needle.length;
  }
}

/** The agent stand-in's record of how it was started (/tmp/agent.started), as key=value pairs. */
async function agentStarted(docker: Docker, container: string): Promise<Record<string, string>> {
  const { output } = await waitFor('the agent to start', async () => {
    const r = await execIn(docker, container, ['cat', '/tmp/agent.started']);
    return r.exitCode === 0 && r.output.includes('home=') ? r : undefined;
  });
  return Object.fromEntries(
    output
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe.skipIf(!ok)('agent images (docker/agent/) on a real engine', () => {
  let docker: Docker;
  let images: AgentImages;
  let testImages: TestImages;
  let backend: DockerBackend;
  let service: EdgeService;
  /** An HTTP server on the engine's bridge gateway: what a job's nested container reaches through its NAT. */
  let web: Server;
  let webUrl: string;
  const clusterProps = dockerClusterProps(CLUSTER, { allow_privileged: 'true', go_server_url: GO_SERVER_URL });

  beforeAll(async () => {
    docker = localDocker();
    [images, testImages] = await Promise.all([ensureAgentImages(), ensureTestImages()]);
    backend = await createDockerBackend({}, logger, { stopSeconds: 1 });
    service = edgeService(backend, { logger });
    // The default bridge's address on the host (docker0): agent containers' gateway.
    const gateway = await bridgeGatewayAddress(docker);
    web = createServer((_req, res) => res.end(`reached-from-a-nested-container-${RUN}`));
    await new Promise<void>((resolve) => web.listen(0, gateway, resolve));
    webUrl = `http://${gateway}:${(web.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    if (web) await new Promise((r) => web.close(r));
    if (docker) await cleanupRun(docker, RUN, [CLUSTER]);
  });

  describe('gocd-agent-dind (privileged mode)', () => {
    const marker = 4243001;
    const jobId = 701;
    const name = containerNameFor(CLUSTER, jobId);

    it('launched by the Docker backend in the capability form: dockerd comes up first, then the agent as go with its GO_EA_* registration, and a job runs containers that reach the network', async () => {
      const jobScript = [
        'set -e',
        'docker import /opt/busybox.tar bb:1 >/dev/null',
        // The default bridge: the nested daemon's NAT (iptables) takes the child to the outer network.
        `docker run --rm bb:1 wget -q -O- ${webUrl}`,
        `docker run -d --stop-timeout 1 --name leftover bb:1 sleep ${marker} >/dev/null`,
      ].join('; ');
      const result = await service.createAgent({
        autoRegisterKey: 'dind-key-701',
        job: job(jobId),
        clusterProperties: clusterProps,
        profileProperties: {
          image: images.dind,
          docker_mode: 'privileged',
          capabilities: DAEMON_CAPS.join(','),
          environment: `DOCKERD_ADDITIONAL_ARGS=--storage-driver=vfs\nFAKE_AGENT_JOB=${jobScript}`,
        },
      });
      expect(result.kind).toBe('launched');
      const info = await docker.getContainer(name).inspect();
      expect(info.HostConfig.Privileged).toBe(false);
      expect(info.HostConfig.CapAdd).toEqual(DAEMON_CAPS);

      const started = await agentStarted(docker, name);
      // GoCD's agent user, its primary group root; the base entrypoint consumed the GO_EA_* variables.
      expect(started).toMatchObject({
        uid: '1000',
        gid: '0',
        GO_SERVER_URL,
        GO_EA_variables: '0',
        home: '/home/go',
      });
      const properties = (await execIn(docker, name, ['cat', '/go/config/autoregister.properties'])).output;
      expect(properties).toContain('agent.auto.register.key=dind-key-701');
      expect(properties).toContain(`agent.auto.register.elasticAgent.agentId=${agentIdFor(CLUSTER, jobId)}`);
      expect(properties).toContain('agent.auto.register.elasticAgent.pluginId=gocd-agent-scaler');
      expectInOrder(await containerLogs(name), ['starting dockerd', 'dockerd is up', 'go-agent: started']);

      await waitForJobScript(docker, name, 120_000);
      expect((await execIn(docker, name, ['cat', '/tmp/job.log'])).output).toContain(
        `reached-from-a-nested-container-${RUN}`,
      );
      // The agent user reaches its daemon through the socket's group (its primary group).
      const ps = await execIn(docker, name, ['setpriv', '--reuid=1000', '--regid=0', '--clear-groups', 'docker', 'ps']);
      expect(ps.output).toContain('leftover');
      expect(hostProcessesRunning(`sleep ${marker}`).length).toBe(1);
    }, 180_000);

    it('stops cleanly on SIGTERM: the agent first, then dockerd (which stops the job’s containers), exit 0', async () => {
      await dockerCli(['stop', '-t', '60', name], 90_000);
      const state = (await docker.getContainer(name).inspect()).State;
      expect(state.ExitCode).toBe(0);
      expectInOrder(await containerLogs(name), [
        'SIGTERM: stopping the agent, then dockerd',
        'go-agent: stopped',
        'agent exited (0)',
        'dockerd stopped (exit 0)',
      ]);
      const { stdout: daemonLog } = await run('sh', ['-c', `docker cp ${name}:/var/log/dockerd.log - | tar -xO`], {
        maxBuffer: 64 << 20,
      });
      expectInOrder(daemonLog, ["Processing signal 'terminated'", 'Daemon shutdown complete']);
      expect(hostProcessesRunning(`sleep ${marker}`)).toEqual([]);

      await service.jobCompleted({
        elasticAgentId: agentIdFor(CLUSTER, jobId),
        job: job(jobId),
        clusterProperties: clusterProps,
      });
      expect(await docker.listContainers({ all: true, filters: { name: [name] } })).toEqual([]);
    }, 120_000);

    it('starts its daemon without the Docker backend’s cgroup prelude too (ECS’s capability form), making the cgroups writable itself', async () => {
      const container = await docker.createContainer({
        Image: images.dind,
        name: `${RUN}-ecs-like-dind`,
        Labels: { [RUN_LABEL]: RUN },
        Env: ['DOCKERD_ADDITIONAL_ARGS=--storage-driver=vfs', `GO_EA_SERVER_URL=${GO_SERVER_URL}`],
        HostConfig: { CapAdd: DAEMON_CAPS, SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'] },
      });
      await container.start();
      await agentStarted(docker, container.id);
      const cgroupMounts = (await execIn(docker, container.id, ['grep', ' /sys/fs/cgroup', '/proc/self/mountinfo']))
        .output;
      expect(cgroupMounts).not.toMatch(/ \/sys\/fs\/cgroup\S* ro,/);
      const nested = await execIn(docker, container.id, [
        'sh',
        '-c',
        'docker import /opt/busybox.tar bb:1 >/dev/null && docker run --rm bb:1 echo nested-without-prelude',
      ]);
      expect(nested).toEqual({ exitCode: 0, output: 'nested-without-prelude\n' });
      await dockerCli(['stop', '-t', '60', container.id], 90_000);
      expect((await container.inspect()).State.ExitCode).toBe(0);
    }, 180_000);
  });

  describe('gocd-agent-docker-cli (sidecar and socket modes)', () => {
    it('with a host socket mounted and no --group-add (a socket mounted by hand; the scaler adds the group on Docker and serves a proxy socket on ECS): the agent user gets the socket’s group and a job’s docker run reaches the engine; SIGTERM stops it with exit 0', async () => {
      const socketGid = (await run('stat', ['-c', '%g', '/var/run/docker.sock'])).stdout.trim();
      const container = await docker.createContainer({
        Image: images.dockerCli,
        name: `${RUN}-socket-agent`,
        Labels: { [RUN_LABEL]: RUN },
        Env: [
          `GO_EA_SERVER_URL=${GO_SERVER_URL}`,
          `FAKE_AGENT_JOB=docker run --rm --label ${RUN_LABEL}=${RUN} ${testImages.busybox} echo via-the-host-socket`,
        ],
        HostConfig: { Binds: ['/var/run/docker.sock:/var/run/docker.sock'] },
      });
      await container.start();
      const started = await agentStarted(docker, container.id);
      expect(started).toMatchObject({ uid: '1000', gid: '0', GO_SERVER_URL, GO_EA_variables: '0' });
      expect(started.groups?.split(' ')).toContain(socketGid);
      await waitForJobScript(docker, container.id, 60_000);
      expect((await execIn(docker, container.id, ['cat', '/tmp/job.log'])).output.trim()).toBe('via-the-host-socket');

      await dockerCli(['stop', '-t', '30', container.id], 60_000);
      expect((await container.inspect()).State.ExitCode).toBe(0);
      expect(await containerLogs(container.id)).toContain('go-agent: stopped');
    }, 120_000);

    it('as the Docker backend’s sidecar agent: keeps the group the backend adds for the DinD socket and runs `docker run -v $PWD` against the sidecar', async () => {
      const jobId = 702;
      const jobScript = [
        'set -e',
        'i=0; until docker version >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 300 ] || exit 3; sleep 0.2; done',
        'docker import /opt/busybox.tar bb:1 >/dev/null',
        'mkdir -p /godata/pipelines/p && cd /godata/pipelines/p && echo from-the-workspace > input.txt',
        'docker run --rm --network none -v "$PWD":/src bb:1 cat /src/input.txt',
      ].join('; ');
      const result = await service.createAgent({
        autoRegisterKey: 'sidecar-key-702',
        job: job(jobId),
        clusterProperties: clusterProps,
        profileProperties: {
          image: images.dockerCli,
          docker_mode: 'sidecar',
          dind_image: testImages.dind,
          capabilities: DAEMON_CAPS.join(','),
          environment: `FAKE_AGENT_JOB=${jobScript}`,
        },
      });
      if (result.kind !== 'launched') throw new Error(`expected launched, got ${JSON.stringify(result)}`);
      const started = await agentStarted(docker, result.agent.ref);
      expect(started).toMatchObject({ uid: '1000', gid: '0', GO_SERVER_URL });
      expect(started.groups?.split(' ')).toContain('2375');
      await waitForJobScript(docker, result.agent.ref, 120_000);
      expect((await execIn(docker, result.agent.ref, ['cat', '/tmp/job.log'])).output.trim()).toBe(
        'from-the-workspace',
      );
      await service.jobCompleted({
        elasticAgentId: agentIdFor(CLUSTER, jobId),
        job: job(jobId),
        clusterProperties: clusterProps,
      });
    }, 180_000);
  });

  it('a base the images cannot use fails the build with the missing command named (no setpriv, no package manager)', async () => {
    const dir = join(import.meta.dirname, '..', '..', 'docker', 'agent');
    const failed = await run(
      'docker',
      [
        'build',
        '-q',
        // A failed classic build keeps its last container unless told otherwise.
        '--force-rm',
        '-f',
        join(dir, 'docker-cli.Dockerfile'),
        '--build-arg',
        `BASE=${testImages.busybox}`,
        '--build-arg',
        `DOCKER_CLI_IMAGE=${images.dockerCli}`,
        dir,
      ],
      { env: { ...process.env, DOCKER_BUILDKIT: '0' }, timeout: 120_000 },
    ).then(
      () => undefined,
      (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
    expect(failed).toContain('missing: setpriv, and the base image has no apt-get, apk or dnf to install them');
  }, 150_000);
});
