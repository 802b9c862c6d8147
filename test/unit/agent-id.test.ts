import { describe, expect, it } from 'vitest';
import { agentIdFor, jobIdOfAgentId, shouldAssignWork } from '../../src/agents/agent-id.js';
import { defaultClusterId } from '../../src/agents/profiles.js';

/** A should-assign-work body as GoCD sends it (only the fields the rule reads). */
function assignBody(agentId: string, jobId: number, clusterProperties: unknown) {
  return {
    agent: { agent_id: agentId },
    job_identifier: { job_id: jobId },
    cluster_profile_properties: clusterProperties,
  };
}

describe('agent identity', () => {
  it('names the same job the same agent every time it is asked (create-agent is retried)', () => {
    expect(agentIdFor('ci', 42)).toBe(agentIdFor('ci', 42));
    expect(agentIdFor('ci', 42)).toMatch(/^ea-42-[0-9a-f]{8}$/);
  });

  it('gives the same job id on two clusters two different agent ids', () => {
    expect(agentIdFor('cluster-a', 42)).not.toBe(agentIdFor('cluster-b', 42));
  });

  it('gives two jobs on one cluster two different hex parts, not just two job parts', () => {
    const hex = (id: string) => id.slice(id.lastIndexOf('-') + 1);
    expect(hex(agentIdFor('ci', 1))).not.toBe(hex(agentIdFor('ci', 2)));
  });

  it('keeps the cluster id and the job id apart in the hash (cluster "a1" job 2 is not cluster "a" job 12)', () => {
    const hex = (id: string) => id.slice(id.lastIndexOf('-') + 1);
    expect(hex(agentIdFor('a1', 2))).not.toBe(hex(agentIdFor('a', 12)));
  });

  it('reads the job id back from an agent id it made, negative ids included', () => {
    expect(jobIdOfAgentId(agentIdFor('ci', 7))).toBe(7);
    expect(jobIdOfAgentId(agentIdFor('ci', -3))).toBe(-3);
  });

  it.each([
    ['another prefix', 'xea-7-0123abcd'],
    ['a suffix after the hex', 'ea-7-0123abcd-x'],
    ['seven hex digits', 'ea-7-0123abc'],
    ['nine hex digits', 'ea-7-0123abcde'],
    ['upper-case hex', 'ea-7-0123ABCD'],
    ['no job number', 'ea--0123abcd'],
    ['a job number that is not a number', 'ea-x7-0123abcd'],
  ])('finds no job id in an id this service did not make: %s', (_name, id) => {
    expect(jobIdOfAgentId(id)).toBeUndefined();
  });

  it('assigns an agent the job it was made for, on the cluster it was made for', () => {
    const props = { cluster_id: 'ci', go_server_url: 'https://g/go' };
    expect(shouldAssignWork(assignBody(agentIdFor('ci', 5), 5, props))).toBe(true);
  });

  it('does not assign the same job number on another cluster to an agent made on this one', () => {
    expect(shouldAssignWork(assignBody(agentIdFor('ci', 5), 5, { cluster_id: 'other' }))).toBe(false);
  });

  it('derives the cluster id from the properties when cluster_id is blank, as create-agent did', () => {
    const props = { cluster_id: '  ', go_server_url: 'https://g/go', max_agents: '3' };
    const id = agentIdFor(defaultClusterId(props), 9);
    expect(shouldAssignWork(assignBody(id, 9, props))).toBe(true);
    expect(shouldAssignWork(assignBody(id, 9, { ...props, max_agents: '4' }))).toBe(false);
  });

  it('trims the cluster id as create-agent does', () => {
    expect(shouldAssignWork(assignBody(agentIdFor('ci', 5), 5, { cluster_id: ' ci ' }))).toBe(true);
  });

  it('accepts null property values (GoCD sends them) and refuses non-string ones', () => {
    expect(shouldAssignWork(assignBody(agentIdFor('ci', 5), 5, { cluster_id: 'ci', network: null }))).toBe(true);
    expect(shouldAssignWork(assignBody(agentIdFor('ci', 5), 5, { cluster_id: 'ci', max_agents: 3 }))).toBe(false);
  });

  it.each([
    ['no properties', undefined],
    ['properties that are a list', [{ cluster_id: 'ci' }]],
    ['properties that are a string', 'cluster_id=ci'],
  ])('refuses a body with %s', (_name, props) => {
    expect(shouldAssignWork(assignBody(agentIdFor('ci', 5), 5, props))).toBe(false);
  });

  it('refuses an agent id sent as a list, without throwing', () => {
    const props = { cluster_id: 'ci' };
    expect(shouldAssignWork(assignBody([agentIdFor('ci', 5)] as unknown as string, 5, props))).toBe(false);
  });

  it('refuses a job id beyond what a double holds exactly, even for the id made from it', () => {
    const unsafe = 2 ** 53;
    expect(shouldAssignWork(assignBody(agentIdFor('ci', unsafe), unsafe, { cluster_id: 'ci' }))).toBe(false);
    const safe = 2 ** 53 - 1;
    expect(shouldAssignWork(assignBody(agentIdFor('ci', safe), safe, { cluster_id: 'ci' }))).toBe(true);
  });

  it('refuses cluster properties that are a number, though it has no keys like an empty profile', () => {
    const id = agentIdFor(defaultClusterId({}), 5);
    expect(shouldAssignWork(assignBody(id, 5, {}))).toBe(true);
    expect(shouldAssignWork(assignBody(id, 5, 5))).toBe(false);
  });

  it('refuses a body without cluster properties even for a cluster whose id is the word "undefined"', () => {
    expect(shouldAssignWork(assignBody(agentIdFor('undefined', 5), 5, { cluster_id: 'undefined' }))).toBe(true);
    expect(shouldAssignWork(assignBody(agentIdFor('undefined', 5), 5, undefined))).toBe(false);
    expect(shouldAssignWork(assignBody(agentIdFor('undefined', 5), 5, null))).toBe(false);
  });

  it.each([
    ['no body', undefined],
    ['a null body', null],
    ['a body that is not an object', 'ea-5'],
    ['an agent id that is not a string', { agent: { agent_id: 5 }, job_identifier: { job_id: 5 } }],
    ['a job id that is a string', { agent: { agent_id: 'ea-5-00000000' }, job_identifier: { job_id: '5' } }],
    ['a job id that is not a safe integer', { agent: { agent_id: 'ea-5-00000000' }, job_identifier: { job_id: 5.5 } }],
  ])('answers false, never throws, for %s', (_name, body) => {
    expect(shouldAssignWork(body)).toBe(false);
  });

  it('does not assign a job to an agent made for another job, even with a forged id of the right shape', () => {
    const props = { cluster_id: 'ci' };
    expect(shouldAssignWork(assignBody(agentIdFor('ci', 6), 5, props))).toBe(false);
    const forged = `ea-5-${agentIdFor('ci', 6).split('-')[2]}`;
    expect(shouldAssignWork(assignBody(forged, 5, props))).toBe(false);
  });
});
