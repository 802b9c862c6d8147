import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createDockerBackend } from '../../src/backends/docker/docker-backend.js';
import { dockerEngineStatus } from '../../src/backends/docker/docker-client.js';
import { BackendUnavailableError } from '../../src/errors.js';
import { createDockerBackendFor } from '../../src/main/docker-factory.js';
import { job } from '../support/gocd-bodies.js';
import { dockerCluster as parseClusterProfile, dockerProfile as parseElasticProfile } from '../support/profiles.js';

const cluster = parseClusterProfile({
  go_server_url: 'https://gocd.example.com/go',
  cluster_id: 'nowhere',
  docker_host: 'unix:///nonexistent/docker.sock',
});

describe('Docker backend without a reachable engine', () => {
  it('reports a listing failure as BackendUnavailableError, never as "no agents"', async () => {
    const backend = await createDockerBackend(cluster);
    await expect(backend.list(cluster)).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(backend.list(cluster)).rejects.toThrow(/unix:\/\/\/nonexistent\/docker.sock is unavailable/);
  });

  it('throws BackendUnavailableError from launch, stop and inspect rather than claiming an outcome', async () => {
    const backend = await createDockerBackend(cluster);
    const profile = parseElasticProfile({ image: 'agent:1' });
    await expect(
      backend.launch({ agentId: 'ea-1-00000000', job: job(1), cluster, profile, jobEnv: {} }),
    ).rejects.toBeInstanceOf(BackendUnavailableError);
    const record = {
      agentId: 'ea-1-00000000',
      jobId: 1,
      clusterId: 'nowhere',
      pipeline: 'p',
      ref: 'x',
      status: 'running' as const,
      createdAt: new Date(),
    };
    await expect(backend.stop(cluster, [record], 'test')).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(backend.inspect(cluster, 'ea-1-00000000')).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('refuses a docker_host it cannot parse with a message naming the accepted forms', async () => {
    await expect(createDockerBackend({ dockerHost: 'ssh://somewhere' })).rejects.toThrow(/unix:\/\/\/path/);
  });

  it('says the engine is unavailable, and why', async () => {
    expect(await dockerEngineStatus('unix:///nonexistent/docker.sock')).toMatch(/^unavailable: .*ENOENT/);
  });

  it('the factory composition uses builds a docker backend lazily and fails the same way for an unreadable docker_host', async () => {
    const logger = pino({ level: 'silent' });
    const backend = await createDockerBackendFor(cluster, logger);
    expect(backend.kind).toBe('docker');
    await expect(backend.list(cluster)).rejects.toBeInstanceOf(BackendUnavailableError);
    // Profile validation refuses such an address first (validate-cluster-profile says so too); the factory still does.
    expect(() => parseClusterProfile({ go_server_url: 'https://g/go', docker_host: 'ftp://x' })).toThrow(
      /docker_host must be .* got 'ftp:\/\/x'/,
    );
    const bad = { ...cluster, dockerHost: 'ftp://x' };
    await expect(createDockerBackendFor(bad, logger)).rejects.toThrow(/docker_host must be .* got 'ftp:\/\/x'/);
  });
});
