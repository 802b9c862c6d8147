import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { DEFAULT_SERVICE_CONFIG } from '../../infra/lib/scaler-stack.js';
import { withStackPolicy } from '../../infra/lib/service-policy.js';
import { resolveStackConfig, type ScalerStackConfig } from '../../infra/lib/stack-config.js';
import { job } from '../support/gocd-bodies.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// docs/quickstart-gocd.md as a user follows it: the JSON bodies it tells them to POST to GoCD, checked against the
// service the way GoCD would use them (validate-* when the profile is saved, create-agent when a job needs an agent).

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'quickstart-gocd.md'), 'utf8');

interface Property {
  key: string;
  value: string;
}
interface ClusterProfile {
  id: string;
  plugin_id: string;
  properties: Property[];
}
interface ElasticProfile {
  id: string;
  cluster_profile_id: string;
  properties: Property[];
}
interface PipelineBody {
  pipeline: { stages: { jobs: { elastic_profile_id?: string }[] }[] };
}

/** The text of every ```<lang> block preceded by `<!-- quickstart: <kind> -->`. */
function texts(kind: string, lang = 'json'): string[] {
  const re = new RegExp(`<!-- quickstart: ${kind} -->\\n\`\`\`${lang}\\n([\\s\\S]*?)\\n\`\`\``, 'g');
  return [...DOC.matchAll(re)].map((m) => m[1]!);
}

/** Every ```json block preceded by `<!-- quickstart: <kind> -->`, parsed. */
function blocks<T>(kind: string): T[] {
  return texts(kind).map((text) => JSON.parse(text) as T);
}

/** GoCD sends a profile's properties to the plugin as a key → value map. */
const asMap = (properties: Property[]) => Object.fromEntries(properties.map((p) => [p.key, p.value]));

const clusters = blocks<ClusterProfile>('cluster-profile');
const profiles = blocks<ElasticProfile>('elastic-profile');
const pipelines = blocks<PipelineBody>('pipeline');
/** Part A: the service config the user starts the service with. */
const [serviceConfig] = texts('service-config', 'yaml');
/** Part B: the stack config, and the operator policy the stack writes into the deployed service's config from it. */
const [stackConfig] = blocks<Partial<ScalerStackConfig>>('stack-config');
function stackPolicyYaml(): string {
  const written = withStackPolicy(DEFAULT_SERVICE_CONFIG, resolveStackConfig(stackConfig));
  // The policy refers to the stack's region and account, which the stack sets in the service's environment.
  return `policy: ${JSON.stringify(parseDocument(written).get('policy'))}\n`;
}
const STACK_ENV = { SCALER_STACK_REGION: 'eu-west-1', SCALER_STACK_ACCOUNT: '123456789012' };

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

async function post(name: string, body: unknown) {
  return t.app.inject({
    method: 'POST',
    url: `/gocd/requests/cd.go.elastic-agent.${name}`,
    headers: t.auth,
    payload: JSON.stringify(body),
  });
}

describe('docs/quickstart-gocd.md', () => {
  it('has the local and the AWS profiles and the pipeline, all valid JSON', () => {
    expect(clusters.map((c) => c.id)).toEqual(['local', 'aws-fargate', 'aws-ec2']);
    expect(profiles.map((p) => p.id)).toEqual(['local-small', 'local-docker', 'aws-small', 'aws-docker']);
    expect(pipelines).toHaveLength(1);
    expect(serviceConfig).toContain('policy:');
    expect(stackConfig).toMatchObject({ clusterName: 'gocd-agents' });
  });

  it('sets up an operator policy without which the Docker profiles would be refused, naming the key', async () => {
    const docker = profiles.find((p) => p.id === 'local-docker')!;
    const cluster = clusters.find((c) => c.id === docker.cluster_profile_id)!;
    const res = await post('create-agent', {
      auto_register_key: 'quickstart-key-default-policy',
      elastic_agent_profile_properties: asMap(docker.properties),
      cluster_profile_properties: asMap(cluster.properties),
      job_identifier: job(899),
    });
    expect(res.statusCode).toBe(200);
    expect(t.backend.agents).toEqual([]);
    expect(JSON.stringify(res.json())).toContain('policy.allow.privileged');
  });

  it('names the plugin id of the jar and the settings the jar reads', () => {
    const pluginXml = readFileSync(join(ROOT, 'gocd-plugin/src/main/resources/plugin.xml'), 'utf8');
    const pluginId = /<go-plugin id="([^"]+)"/.exec(pluginXml)?.[1];
    for (const c of clusters) expect(c.plugin_id).toBe(pluginId);
    const settings = readFileSync(
      join(ROOT, 'gocd-plugin/src/main/java/gocd/agent/scaler/forwarder/ForwarderSettings.java'),
      'utf8',
    );
    // The URL and token settings (environment variables and system properties), not the optional timeouts.
    const names = [...settings.matchAll(/static final String (?:URL|TOKEN)_\w+ = "([^"]+)";/g)].map((m) => m[1]!);
    expect(names).toEqual(expect.arrayContaining(['GOCD_AGENT_SCALER_URL', 'GOCD_AGENT_SCALER_TOKEN']));
    for (const name of names) expect(DOC, `the quick start names ${name}`).toContain(name);
  });

  it.each(clusters.map((c) => [c.id, c] as const))(
    'cluster profile %s passes validate-cluster-profile',
    async (_id, c) => {
      const res = await post('validate-cluster-profile', asMap(c.properties));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual([]);
    },
  );

  it.each(profiles.map((p) => [p.id, p] as const))(
    'elastic profile %s belongs to a documented cluster profile and passes validate-elastic-agent-profile',
    async (_id, p) => {
      expect(clusters.map((c) => c.id)).toContain(p.cluster_profile_id);
      const res = await post('validate-elastic-agent-profile', asMap(p.properties));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual([]);
    },
  );

  it.each(profiles.map((p, i) => [p.id, p, i] as const))(
    'a job on elastic profile %s gets an agent launched (its cluster allows what it asks)',
    async (_id, p, i) => {
      const cluster = clusters.find((c) => c.id === p.cluster_profile_id)!;
      // The service runs with the policy the guide sets up: its scaler.yaml (Part A), or the stack's (Part B).
      await t.close();
      const ecs = asMap(cluster.properties).cluster !== undefined;
      t = await createTestApp(ecs ? { yaml: stackPolicyYaml(), env: STACK_ENV } : { yaml: serviceConfig });
      const jobId = 900 + i;
      const res = await post('create-agent', {
        auto_register_key: `quickstart-key-${i}`,
        elastic_agent_profile_properties: asMap(p.properties),
        cluster_profile_properties: asMap(cluster.properties),
        job_identifier: job(jobId),
      });
      expect(res.statusCode).toBe(200);
      expect(t.backend.agents.map((a) => a.jobId)).toEqual([jobId]);
      const env = t.backend.agents[0]!.env;
      expect(env.GO_EA_SERVER_URL).toBe(asMap(cluster.properties).go_server_url);
    },
  );

  it('the pipeline’s jobs run on a documented elastic profile', () => {
    const ids = pipelines.flatMap((b) => b.pipeline.stages.flatMap((s) => s.jobs.map((j) => j.elastic_profile_id)));
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(profiles.map((p) => p.id)).toContain(id);
  });
});
