import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobIdentifier } from '../../src/agents/job.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'gocd');

/** A real GoCD message body from test/fixtures/gocd. */
export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;
}

/** The four status-report bodies GoCD's converter tests produce (agent by id, agent by job, cluster, plugin). */
export function statusReportFixtures(): Record<string, unknown>[] {
  return readFileSync(join(dir, 'status-reports.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export const CLUSTER = { go_server_url: 'https://gocd.example.com/go', cluster_id: 'test', max_agents: '3' };
export const PROFILE = { image: 'gocd/gocd-agent-debian-12:v25.1.0', environment: 'FOO=bar' };

/** A job identifier like GoCD's, with the given job id. */
export function job(jobId: number, name = 'build'): JobIdentifier {
  return {
    pipeline_name: 'app',
    pipeline_counter: 7,
    pipeline_label: '7',
    stage_name: 'test',
    stage_counter: '1',
    job_name: name,
    job_id: jobId,
  };
}

/** A create-agent body for our property keys. */
export function createAgentBody(jobId: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    auto_register_key: `key-${jobId}-${Math.random().toString(36).slice(2)}`,
    elastic_agent_profile_properties: PROFILE,
    cluster_profile_properties: CLUSTER,
    environment: 'prod',
    job_identifier: job(jobId),
    ...overrides,
  };
}
