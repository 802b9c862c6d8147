import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LaunchRequest } from '../../src/agents/agent-backend.port.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { containerNameFor, LABEL } from '../../src/backends/docker/container-spec.js';
import { createDockerBackend, type DockerBackend } from '../../src/backends/docker/docker-backend.js';
import {
  cleanupRun,
  containerExists,
  containersWithLabel,
  dockerCli,
  loadImageInto,
  localDocker,
  runId,
  waitFor,
} from '../support/docker-engine.js';
import { ensureTestImages, type TestImages, testImagePrereqs } from '../support/docker-images.js';
import { job } from '../support/gocd-bodies.js';
import {
  edgeService,
  dockerCluster as parseClusterProfile,
  dockerProfile as parseElasticProfile,
} from '../support/profiles.js';
import { dockerAvailable, requireService } from '../support/services.js';

const ok =
  requireService('Docker engine', dockerAvailable(), 'install docker.io and start dockerd (see .ci/run)') &&
  requireService('test image ingredients', testImagePrereqs() === undefined, testImagePrereqs() ?? '');

const run = runId('e2eb');
const clusterId = run;
const docker = localDocker();
const logger = pino({ level: 'silent' });

function clusterProps(extra: Record<string, string> = {}): Record<string, string> {
  return {
    go_server_url: 'https://gocd.example.com/go',
    cluster_id: clusterId,
    max_agents: '60',
    allow_privileged: 'true',
    environment: 'FROM_CLUSTER=c\nOVERRIDDEN=cluster',
    ...extra,
  };
}

function launchRequest(images: TestImages, jobId: number, profile: Record<string, string> = {}): LaunchRequest {
  const cluster = parseClusterProfile(clusterProps());
  return {
    agentId: agentIdFor(clusterId, jobId),
    job: job(jobId),
    cluster,
    profile: parseElasticProfile({ image: images.agent, ...profile }),
    jobEnv: { GO_EA_AUTO_REGISTER_KEY: `key-${Math.random()}`, GO_EA_SERVER_URL: cluster.goServerUrl },
  };
}

describe.skipIf(!ok)('Docker backend on a real engine', () => {
  let images: TestImages;
  let backend: DockerBackend;
  let network: string;

  beforeAll(async () => {
    images = await ensureTestImages();
    backend = await createDockerBackend({}, logger, { stopSeconds: 1 });
    network = `gas-${run}`;
    await dockerCli(['network', 'create', '--label', `gocd-agent-scaler-test.run=${run}`, network]);
  });

  afterAll(async () => {
    await cleanupRun(docker, run, [clusterId]);
    await dockerCli(['network', 'rm', network]).catch(() => undefined);
  });

  it('create-agent starts a running container with the job env, identity labels, resources and network', async () => {
    const service = edgeService(backend, { logger });
    const result = await service.createAgent({
      autoRegisterKey: 'the-secret-key',
      environment: 'prod',
      job: job(101),
      clusterProperties: clusterProps({ network }),
      profileProperties: {
        image: images.agent,
        environment: 'FROM_PROFILE=p\nOVERRIDDEN=profile',
        cpu: '512',
        memory: '256',
      },
    });
    expect(result.kind).toBe('launched');
    const info = await docker.getContainer(containerNameFor(clusterId, 101)).inspect();
    expect(info.State.Status).toBe('running');
    const agentId = agentIdFor(clusterId, 101);
    // README: `docker ps --filter name=<the agent id GoCD shows>` finds the agent's container.
    const byName = await docker.listContainers({ filters: { name: [agentId] } });
    expect(byName.map((c) => c.Id)).toEqual([info.Id]);
    expect(info.Config.Labels).toMatchObject({
      [LABEL.agentId]: agentId,
      [LABEL.jobId]: '101',
      [LABEL.clusterId]: clusterId,
      [LABEL.pipeline]: 'app/7/test/1/build',
      [LABEL.dockerMode]: 'none',
      [LABEL.role]: 'agent',
    });
    expect(info.Config.Env).toEqual(
      expect.arrayContaining([
        'GO_EA_SERVER_URL=https://gocd.example.com/go',
        'GO_EA_AUTO_REGISTER_KEY=the-secret-key',
        'GO_EA_AUTO_REGISTER_ENVIRONMENT=prod',
        `GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID=${agentId}`,
        'GO_EA_AUTO_REGISTER_ELASTIC_PLUGIN_ID=gocd-agent-scaler',
        'FROM_CLUSTER=c',
        'FROM_PROFILE=p',
        'OVERRIDDEN=profile',
      ]),
    );
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.Memory).toBe(256 * 1024 * 1024);
    expect(info.HostConfig.NetworkMode).toBe(network);
    expect(info.HostConfig.AutoRemove).toBe(false);
    expect(info.Mounts).toEqual([]);

    const details = await backend.inspect(parseClusterProfile(clusterProps()), agentId);
    expect(details?.environment.GO_EA_AUTO_REGISTER_KEY).toBe('********');
    expect(details?.environment.FROM_PROFILE).toBe('p');
    expect(details?.containers).toEqual([
      expect.objectContaining({ name: containerNameFor(clusterId, 101), status: 'running' }),
    ]);
  });

  it('50 concurrent launches for one job start exactly one container; the others answer existing', async () => {
    const requests = Array.from({ length: 50 }, () => launchRequest(images, 102));
    const outcomes = await Promise.all(requests.map((r) => backend.launch(r)));
    const kinds = outcomes.map((o) => o.kind);
    expect(kinds.filter((k) => k === 'launched')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'existing')).toHaveLength(49);
    expect(await containersWithLabel(docker, `${LABEL.agentId}=${agentIdFor(clusterId, 102)}`)).toHaveLength(1);
  });

  it('a job whose agent container died gets a new container on the next launch, and the dead one is gone', async () => {
    const first = await backend.launch(launchRequest(images, 103));
    expect(first.kind).toBe('launched');
    const oldId = first.kind === 'launched' ? first.agent.ref : '';
    await dockerCli(['kill', oldId]);
    await waitFor(
      'the agent to exit',
      async () => (await docker.getContainer(oldId).inspect()).State.Status === 'exited',
    );
    const second = await backend.launch(launchRequest(images, 103));
    expect(second.kind).toBe('launched');
    expect(second.kind === 'launched' && second.agent.ref).not.toBe(oldId);
    expect(await containerExists(docker, oldId)).toBe(false);
  });

  it('lists exited agents as gone: the listing removes them and reports only live ones', async () => {
    const cluster = parseClusterProfile(clusterProps());
    const launched = await backend.launch(launchRequest(images, 104));
    const ref = launched.kind === 'launched' ? launched.agent.ref : '';
    expect((await backend.list(cluster)).map((a) => a.agentId)).toContain(agentIdFor(clusterId, 104));
    await dockerCli(['kill', ref]);
    await waitFor(
      'the agent to exit',
      async () => (await docker.getContainer(ref).inspect()).State.Status === 'exited',
    );
    expect((await backend.list(cluster)).map((a) => a.agentId)).not.toContain(agentIdFor(clusterId, 104));
    expect(await containerExists(docker, ref)).toBe(false);
  });

  it('a negative job id (GoCD test jobs) gets a valid container name and round-trips through the labels', async () => {
    const outcome = await backend.launch(launchRequest(images, -7));
    expect(outcome.kind).toBe('launched');
    expect(await containerExists(docker, containerNameFor(clusterId, -7))).toBe(true);
    const listed = (await backend.list(parseClusterProfile(clusterProps()))).filter((a) => a.jobId === -7);
    expect(listed.map((a) => a.agentId)).toEqual([agentIdFor(clusterId, -7)]);
  });

  it('a container paused from outside is listed as running (not stopping), so the reconciler can still reap it', async () => {
    const outcome = await backend.launch(launchRequest(images, 109));
    if (outcome.kind !== 'launched') throw new Error(`expected launched, got ${outcome.kind}`);
    await docker.getContainer(outcome.agent.ref).pause();
    const listed = (await backend.list(parseClusterProfile(clusterProps()))).find((a) => a.jobId === 109);
    expect(listed?.status).toBe('running');
    await backend.stop(parseClusterProfile(clusterProps()), [outcome.agent], 'test');
    expect(await containerExists(docker, outcome.agent.ref)).toBe(false);
  });

  it('a missing image that cannot be pulled is a failed launch with the engine`s message, and nothing is left', async () => {
    const outcome = await backend.launch(launchRequest(images, 105, { image: '127.0.0.1:1/gas-missing/agent:1' }));
    expect(outcome.kind).toBe('failed');
    expect(outcome.kind === 'failed' && outcome.reason).toMatch(
      /pulling 127\.0\.0\.1:1\/gas-missing\/agent:1 failed: .*connection refused/,
    );
    expect(await containerExists(docker, containerNameFor(clusterId, 105))).toBe(false);
  });

  it('a container that cannot start is a failed launch, removed at once', async () => {
    const outcome = await backend.launch(
      launchRequest(images, 106, { image: images.busybox, command: '/no/such/binary' }),
    );
    expect(outcome).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/no such file|not found/i) });
    expect(await containerExists(docker, containerNameFor(clusterId, 106))).toBe(false);
  });

  it('privileged mode with a capability list runs a nested dockerd that can start containers', async () => {
    const outcome = await backend.launch(
      launchRequest(images, 107, {
        image: images.dind,
        docker_mode: 'privileged',
        capabilities: 'SYS_ADMIN,NET_ADMIN',
      }),
    );
    expect(outcome.kind).toBe('launched');
    const name = containerNameFor(clusterId, 107);
    const info = await docker.getContainer(name).inspect();
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.CapAdd).toEqual(['SYS_ADMIN', 'NET_ADMIN']);
    expect(info.HostConfig.SecurityOpt).toEqual(['seccomp=unconfined', 'apparmor=unconfined']);
    await waitFor(
      'the nested daemon',
      async () => (await dockerCli(['exec', name, 'docker', 'info', '--format', '{{.Driver}}'])) === 'vfs',
      60_000,
    );
    await loadImageInto(name, images.busybox);
    expect(await dockerCli(['exec', name, 'docker', 'run', '--rm', images.busybox, 'echo', 'nested-ok'], 120_000)).toBe(
      'nested-ok',
    );
  });

  it('stop removes the agent container; stopping it again, or an unknown agent, is not an error', async () => {
    const cluster = parseClusterProfile(clusterProps());
    const launched = await backend.launch(launchRequest(images, 108));
    if (launched.kind !== 'launched') throw new Error(`launch: ${launched.kind}`);
    await backend.stop(cluster, [launched.agent], 'test');
    expect(await containerExists(docker, launched.agent.ref)).toBe(false);
    await backend.stop(cluster, [launched.agent], 'again');
    await backend.stop(cluster, [{ ...launched.agent, agentId: 'ea-999-00000000' }], 'unknown');
    expect(await backend.inspect(cluster, launched.agent.agentId)).toBeUndefined();
  });
});
