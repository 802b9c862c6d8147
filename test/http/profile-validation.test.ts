import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { imageReferenceProblem } from '../../src/agents/image-reference.js';
import { CLUSTER, createAgentBody, PROFILE } from '../support/gocd-bodies.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

type Problem = { key: string; message: string };
const validateCluster = async (props: Record<string, string>) =>
  (await t.gocd('validate-cluster-profile', props)).json() as Problem[];
const validateElastic = async (props: Record<string, string>) =>
  (await t.gocd('validate-elastic-agent-profile', props)).json() as Problem[];

/** What create-agent does with these profiles: launched, or refused without launching. */
async function createAgent(cluster: Record<string, string>, profile: Record<string, string>) {
  await t.gocd(
    'create-agent',
    createAgentBody(7, { cluster_profile_properties: cluster, elastic_agent_profile_properties: profile }),
  );
  return t.backend.agents.length;
}

describe('GoCD profile validation refuses what create-agent refuses', () => {
  it.each([
    [
      'docker_host ftp://x',
      { docker_host: 'ftp://x' },
      'docker_host',
      /docker_host must be unix:\/\/\/path\/to\/docker\.sock or tcp:\/\/host:port, got 'ftp:\/\/x'/,
    ],
    [
      'a loopback go_server_url for ECS',
      { backend: 'ecs', cluster: 'agents', go_server_url: 'http://127.0.0.1:8153/go' },
      'go_server_url',
      /loopback address: agents in ECS tasks cannot reach GoCD there/,
    ],
    [
      'localhost for a remote Docker engine',
      { docker_host: 'tcp://build-host.example.com:2375', go_server_url: 'http://localhost:8153/go' },
      'go_server_url',
      /agents on the remote engine tcp:\/\/build-host\.example\.com:2375 cannot reach GoCD/,
    ],
    [
      '[::1] for ECS',
      { backend: 'ecs', cluster: 'agents', go_server_url: 'http://[::1]:8153/go' },
      'go_server_url',
      /loopback address/,
    ],
  ])(
    'validate-cluster-profile refuses %s, and create-agent launches nothing with it',
    async (_what, props, key, message) => {
      const cluster = { ...CLUSTER, ...props };
      const problems = await validateCluster(cluster);
      expect(problems).toContainEqual({ key, message: expect.stringMatching(message) });
      expect(await createAgent(cluster, PROFILE)).toBe(0);
    },
  );

  it('accepts a loopback go_server_url where agents share the machine (the local engine, a loopback engine)', async () => {
    expect(await validateCluster({ ...CLUSTER, go_server_url: 'http://127.0.0.1:8153/go' })).toEqual([]);
    expect(
      await validateCluster({
        ...CLUSTER,
        go_server_url: 'http://localhost:8153/go',
        docker_host: 'tcp://127.0.0.1:2375',
      }),
    ).toEqual([]);
    expect(await validateCluster({ ...CLUSTER, docker_host: 'unix:///run/user/1000/docker.sock' })).toEqual([]);
  });

  it.each([
    ['image', 'gocd agent:1'],
    ['image', 'gocd/agent::v1'],
    ['image', 'GoCD/Agent:1'],
    ['dind_image', 'docker dind'],
  ])('validate-elastic-agent-profile refuses %s %j, and create-agent launches nothing with it', async (key, value) => {
    const profile = { ...PROFILE, docker_mode: key === 'dind_image' ? 'sidecar' : 'none', [key]: value };
    const problems = await validateElastic(profile);
    expect(problems).toContainEqual({
      key,
      message: expect.stringContaining(`${key} '${value}' is not a Docker image reference`),
    });
    expect(await createAgent({ ...CLUSTER, allow_privileged: 'true' }, profile)).toBe(0);
  });
});

describe('the Docker image reference grammar (distribution/reference)', () => {
  it.each([
    'alpine',
    'alpine:3.20',
    'gocd/gocd-agent-debian-12:v25.1.0',
    'registry.example.com:5000/team/app:1.0.0',
    '123456789012.dkr.ecr.us-west-2.amazonaws.com/agents/gocd:latest',
    '[fd00::1]:5000/agent',
    'localhost/a__b/c-d.e:tag_1',
    `alpine@sha256:${'a'.repeat(64)}`,
    `alpine:3@sha256:${'a'.repeat(64)}`,
  ])('accepts %s', (ref) => {
    expect(imageReferenceProblem(ref)).toBeUndefined();
  });

  it.each([
    'gocd agent',
    'gocd/agent::v1',
    'Upper/Case',
    'alpine:',
    'alpine@sha256:abc',
    '-alpine',
    'a//b',
    `alpine:${'t'.repeat(129)}`,
    `${'a'.repeat(256)}`,
  ])('refuses %s', (ref) => {
    expect(imageReferenceProblem(ref)).toBeDefined();
  });
});
