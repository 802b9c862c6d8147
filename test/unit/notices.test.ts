import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../src/agents/agent-backend.port.js';
import { isNewState, NoticeBoard } from '../../src/agents/notice-board.js';
import { createAgentState, duration, failureHint, jobOfRecord } from '../../src/agents/notice-texts.js';
import { createLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const quiet = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));

describe('a job state is new', () => {
  it('the first time, and whenever the state or the agent changes', () => {
    expect(isNewState(undefined, { state: 'waiting:max_agents' })).toBe(true);
    expect(isNewState({ state: 'waiting:max_agents' }, { state: 'waiting:max_agents' })).toBe(false);
    expect(isNewState({ state: 'waiting:max_agents' }, { state: 'launched', ref: 'c1' })).toBe(true);
    expect(isNewState({ state: 'stopped', ref: 'c1' }, { state: 'launched', ref: 'c2' })).toBe(true);
    expect(isNewState({ state: 'launched', ref: 'c1' }, { state: 'failed:x' })).toBe(true);
  });

  it('but never an earlier state of the same agent (an "already launched" after "registered")', () => {
    expect(isNewState({ state: 'registered', ref: 'c1' }, { state: 'launched', ref: 'c1' })).toBe(false);
    expect(isNewState({ state: 'launched', ref: 'c1' }, { state: 'launched', ref: 'c1' })).toBe(false);
    expect(isNewState({ state: 'stopped', ref: 'c1' }, { state: 'registered', ref: 'c1' })).toBe(false);
    expect(isNewState({ state: 'launched', ref: 'c1' }, { state: 'registered', ref: 'c1' })).toBe(true);
    expect(isNewState({ state: 'registered', ref: 'c1' }, { state: 'stopped', ref: 'c1' })).toBe(true);
  });
});

describe('the notice board', () => {
  it('tells a state once even when the same create-agent arrives concurrently', async () => {
    const board = new NoticeBoard(new MemoryStore(), quiet);
    const told = await Promise.all(
      Array.from({ length: 8 }, () => board.tellOnce('c', 1, { state: 'waiting:max_agents', text: 'x' })),
    );
    expect(told.filter(Boolean)).toHaveLength(1);
  });

  it('keeps each job and each cluster apart', async () => {
    const board = new NoticeBoard(new MemoryStore(), quiet);
    const s = { state: 'refused:x', text: 'x' };
    expect(await board.tellOnce('c', 1, s)).toBe(true);
    expect(await board.tellOnce('c', 2, s)).toBe(true);
    expect(await board.tellOnce('d', 1, s)).toBe(true);
    expect(await board.tellOnce('c', 1, s)).toBe(false);
  });

  it('returns the health list only when it changed (or when asked always), sorted and complete', async () => {
    const board = new NoticeBoard(new MemoryStore(), quiet);
    const b = { type: 'error' as const, message: 'b' };
    const a = { type: 'warning' as const, message: 'a' };
    expect(await board.updateHealth((e) => Object.assign(e, { 'z\0t': b }))).toEqual([b]);
    expect(await board.updateHealth((e) => Object.assign(e, { 'z\0t': b }))).toBeUndefined();
    expect(await board.updateHealth((e) => Object.assign(e, { 'a\0t': a }))).toEqual([a, b]);
    expect(await board.updateHealth(() => undefined, true)).toEqual([a, b]);
    expect(
      await board.updateHealth((e) => {
        for (const k of Object.keys(e)) delete e[k];
      }),
    ).toEqual([]);
  });

  it('shares its state through the store: a second process does not repeat a line', async () => {
    const store = new MemoryStore();
    const s = { state: 'launched', ref: 'arn:aws:ecs:eu-west-1:1:task/c/1', text: 'x' };
    expect(await new NoticeBoard(store, quiet).tellOnce('c', 1, s)).toBe(true);
    expect(await new NoticeBoard(store, quiet).tellOnce('c', 1, s)).toBe(false);
  });

  it('keeps every job and the health board in one store namespace no registry can have', async () => {
    const store = new MemoryStore();
    const board = new NoticeBoard(store, quiet);
    for (let job = 1; job <= 3; job++) await board.tellOnce('c', job, { state: 'launched', ref: `r${job}`, text: 'x' });
    await board.updateHealth((e) => {
      e['c\0x'] = { type: 'error', message: 'm' };
    });
    expect(store.sizeOf('~notices')).toBe(4);
    expect(store.size).toBe(4);
  });
});

describe('a throttled launch in the console', () => {
  const facts = { clusterId: 'c', clusterProperties: {}, dockerMode: 'none' };
  it('is one waiting state whatever the detail, never a max_agents hint or a failure', () => {
    const states = [
      createAgentState(facts, {
        kind: 'waiting',
        reason: "ECS is throttling launches (Rate exceeded); GoCD's next create-agent launches it",
      }),
      createAgentState(facts, {
        kind: 'queued',
        reason: 'ECS is throttling launches (other detail); queued to launch again shortly',
      }),
      createAgentState(facts, { kind: 'throttled', detail: 'ThrottlingException' }),
    ];
    for (const s of states) {
      expect(s?.state).toBe('waiting:throttled');
      expect(s?.text).not.toContain('max_agents');
      expect(s?.text).toContain('Nothing failed');
    }
    expect(createAgentState(facts, { kind: 'waiting', reason: 'max_agents (3) reached: 3 agents' })?.state).toBe(
      'waiting:max_agents',
    );
  });
});

describe('wording helpers', () => {
  it('reads the job back from an agent tag, and refuses a tag that is not one', () => {
    const agent = { pipeline: 'app/7/test/1/build', jobId: 9 } as AgentRecord;
    expect(jobOfRecord(agent)).toEqual({
      pipeline_name: 'app',
      pipeline_counter: 7,
      stage_name: 'test',
      stage_counter: '1',
      job_name: 'build',
      job_id: 9,
    });
    expect(jobOfRecord({ ...agent, pipeline: 'warm/pool' })).toBeUndefined();
    expect(jobOfRecord({ ...agent, pipeline: 'a/x/b/1/c' })).toBeUndefined();
  });

  it('says how long in the units a person reads', () => {
    expect([duration(45_000), duration(345_000), duration(3 * 3600_000 + 20 * 60_000)]).toEqual([
      '45s',
      '5m 45s',
      '3h 20m',
    ]);
  });

  it('names what to check for the usual failures', () => {
    expect(failureHint('ExpiredTokenException: the security token included in the request is expired')).toContain(
      'AWS credentials',
    );
    expect(failureHint('AccessDeniedException: not authorized to perform ecs:RunTask')).toContain('IAM');
    expect(failureHint('Docker engine at unix:///var/run/docker.sock is unavailable: connect ENOENT')).toContain(
      'Docker engine',
    );
    expect(failureHint('RESOURCE:CPU')).toContain('capacity');
    expect(failureHint('CannotPullContainerError: pull access denied')).toContain('image');
    expect(failureHint('something else')).toContain('service log');
  });
});
