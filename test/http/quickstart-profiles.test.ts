import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

/** Every ```json block preceded by `<!-- quickstart: <kind> -->`. */
function blocks<T>(kind: string): T[] {
  const re = new RegExp(`<!-- quickstart: ${kind} -->\\n\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``, 'g');
  return [...DOC.matchAll(re)].map((m) => JSON.parse(m[1]!) as T);
}

/** GoCD sends a profile's properties to the plugin as a key → value map. */
const asMap = (properties: Property[]) => Object.fromEntries(properties.map((p) => [p.key, p.value]));

const clusters = blocks<ClusterProfile>('cluster-profile');
const profiles = blocks<ElasticProfile>('elastic-profile');
const pipelines = blocks<PipelineBody>('pipeline');

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
