import { describe, expect, it } from 'vitest';
import { triggerHealth } from '../../src/registry/trigger-health.js';
import type { TriggerRecord } from '../../src/registry/trigger-service.js';

const base: TriggerRecord = {
  at: '2026-12-07T09:00:00Z',
  source: 'webhook',
  registry: 'docker',
  image: 'registry.example.com/team/app',
  tag: '1.0.0',
  pipeline: 'deploy-app',
  outcome: 'scheduled',
};

describe('the registry-trigger server-health message', () => {
  it('is absent with no trigger, or when the latest decided one was scheduled', () => {
    expect(triggerHealth([])).toBeUndefined();
    expect(
      triggerHealth([{ ...base, outcome: 'failed', status: 404 }, base, { ...base, outcome: 'duplicate' }]),
    ).toBeUndefined();
  });

  it('says what to fix for the latest failure, skipping outcomes that decide nothing', () => {
    const failed = (extra: Partial<TriggerRecord>) =>
      triggerHealth([base, { ...base, outcome: 'failed', ...extra }, { ...base, outcome: 'released' }])?.message;
    expect(failed({ message: 'connect ECONNREFUSED' })).toContain(
      'the GoCD API did not answer (connect ECONNREFUSED); check gocd.apiUrl',
    );
    expect(failed({ status: 401 })).toContain('check gocd.apiToken');
    expect(failed({ status: 422, missingVariable: 'GO_PACKAGE_DOCKER_TEAM_APP_LABEL' })).toContain(
      'does not declare the environment variable GO_PACKAGE_DOCKER_TEAM_APP_LABEL',
    );
    expect(failed({ status: 404, message: 'not found' })).toContain('answered 404: not found');
  });
});
