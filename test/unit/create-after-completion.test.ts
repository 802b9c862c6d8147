import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentRecord, LaunchOutcome, LaunchRequest } from '../../src/agents/agent-backend.port.js';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { createAgentState } from '../../src/agents/notice-texts.js';
import type { ClusterProfile } from '../../src/agents/profiles.js';
import type { KeyValueStore } from '../../src/registry/store.port.js';
import { DynamoDbStore } from '../../src/store/dynamodb-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';
import { CLUSTER, job, PROFILE } from '../support/gocd-bodies.js';
import { MemoryBackend } from '../support/memory-backend.js';
import { edgeService } from '../support/profiles.js';

// Regression (found by the soak, bench/soak.bench.ts): a create-agent that GoCD sent while the job was waiting, but
// that was processed only after the job had run and completed (it was queued behind another create-agent of the
// same job, its ECS calls throttled), found no live agent and launched a second one for the finished job — never
// assigned, never completed, leaked until the registration timeout. A job id is never run twice (GoCD gives a
// rescheduled job a new id), so once its job-completion was handled, no create-agent for it may launch.

/** A backend whose next `list` waits until released, like an ECS listing stuck in throttling retries. */
class GatedBackend extends MemoryBackend {
  private gate: Promise<void> | undefined;
  private release: (() => void) | undefined;
  listing: Promise<void> | undefined;
  private entered: (() => void) | undefined;

  holdNextList(): () => void {
    this.gate = new Promise((resolve) => {
      this.release = resolve;
    });
    this.listing = new Promise((resolve) => {
      this.entered = resolve;
    });
    return () => this.release?.();
  }

  override async list(cluster: ClusterProfile): Promise<AgentRecord[]> {
    const gate = this.gate;
    if (gate) {
      this.gate = undefined;
      this.entered?.();
      await gate;
    }
    return super.list(cluster);
  }
}

function setup(store?: KeyValueStore, backend = new GatedBackend()) {
  const service = edgeService(backend, {
    // Every create-agent lists (no fleet view is fresh enough), so the gate below can hold one mid-listing.
    fleet: { maxAgeMs: -1 },
    store,
  });
  return { backend, service };
}

const create = (jobId: number) => ({
  autoRegisterKey: `k-${Math.random()}`,
  job: job(jobId),
  clusterProperties: CLUSTER,
  profileProperties: PROFILE,
});
const completion = (jobId: number) => ({
  elasticAgentId: agentIdFor(CLUSTER.cluster_id, jobId),
  job: job(jobId),
  clusterProperties: CLUSTER,
  agents: [],
});

describe('create-agent for a job whose completion was already handled', () => {
  it('launches nothing when it arrives after job-completion', async () => {
    const { backend, service } = setup();
    expect((await service.createAgent(create(41))).kind).toBe('launched');
    await service.jobCompleted(completion(41));
    expect(backend.agents.map((a) => a.status)).toEqual(['stopped']);
    const late = await service.createAgent(create(41));
    expect(late.kind).not.toBe('launched');
    expect(backend.agents).toHaveLength(1);
    // Other jobs are not affected.
    expect((await service.createAgent(create(42))).kind).toBe('launched');
  });

  it('launches nothing when job-completion lands while it is still listing', async () => {
    const { backend, service } = setup();
    expect((await service.createAgent(create(43))).kind).toBe('launched');
    const release = backend.holdNextList();
    const stale = service.createAgent(create(43));
    await backend.listing;
    const completed = service.jobCompleted(completion(43));
    await new Promise((resolve) => setTimeout(resolve, 20)); // time enough for an unsynchronised completion to stop it
    release();
    await Promise.all([stale, completed]);
    expect(backend.agents).toHaveLength(1);
    expect(backend.agents[0]!.status).toBe('stopped');
  });

  it('still launches again after a failed launch (no completion was sent)', async () => {
    const { backend, service } = setup();
    backend.failLaunch = 'RESOURCE:MEMORY';
    expect((await service.createAgent(create(44))).kind).toBe('failed');
    backend.failLaunch = undefined;
    expect((await service.createAgent(create(44))).kind).toBe('launched');
  });
});

/** A backend whose launch finds the job's agent already stopped at job-completion (the ECS client token's answer). */
class CompletedElsewhereBackend extends MemoryBackend {
  override async launch(request: LaunchRequest): Promise<LaunchOutcome> {
    if (request.job.job_id !== 61) return super.launch(request);
    this.launches.push(request);
    const agent: AgentRecord = {
      agentId: request.agentId,
      jobId: 61,
      clusterId: request.cluster.clusterId,
      pipeline: 'app/7/test/1/build',
      ref: 'arn:aws:ecs:eu-west-1:123456789012:task/ci-agents/done',
      status: 'stopped',
      createdAt: new Date(0),
    };
    return { kind: 'existing', agent };
  }
}

describe('create-agent whose launch finds the agent stopped because its job completed (another process handled it)', () => {
  it('answers completed: no console line, no slot of max_agents held, the job remembered as completed', async () => {
    const store = new MemoryStore();
    const backend = new CompletedElsewhereBackend();
    const service = edgeService(backend, { store });
    const cap = { ...CLUSTER, max_agents: '1' };
    const stale = await service.createAgent({ ...create(61), clusterProperties: cap });
    expect(stale).toEqual({ kind: 'completed', reason: 'job already completed' });
    const facts = { clusterId: 'test', clusterProperties: cap, dockerMode: 'none' };
    expect(createAgentState(facts, stale)).toBeUndefined();
    // Not counted as a live agent: the only slot goes to the next job.
    expect((await service.createAgent({ ...create(62), clusterProperties: cap })).kind).toBe('launched');
    // And a later create-agent for it is answered from the mark, without a launch.
    expect(await service.createAgent({ ...create(61), clusterProperties: cap })).toEqual(stale);
    expect(backend.launches.filter((l) => l.job.job_id === 61)).toHaveLength(1);
  });
});

// Across processes (another Lambda container, a restart): the RunTask client token is honoured for at most 24 h and
// only within one ECS cluster, so it cannot tell a later process that a job already ran. The mark in the shared store
// can: a fresh service, whose backend would launch (the job's agent is stopped and no token remembers it), launches
// nothing.
let db: Dynalite;
beforeAll(async () => {
  db = await startDynalite();
  await db.createStoreTable('marks');
});
afterAll(async () => db.close());

const shared: [string, () => KeyValueStore][] = [
  ['DynamoDB (dynalite, real SDK)', () => new DynamoDbStore({ client: db.doc, tableName: 'marks' })],
  ['memory', () => new MemoryStore()],
];

describe.each(shared)('the job-completed mark in a shared %s store', (_name, makeStore) => {
  it('keeps another process (or a restart) from launching a second agent for a completed job', async () => {
    const store = makeStore();
    const backend = new GatedBackend();
    const first = setup(store, backend).service;
    expect((await first.createAgent(create(51))).kind).toBe('launched');
    await first.jobCompleted(completion(51));
    // A fresh process: nothing in memory, the same store and the same ECS.
    const second = setup(store, backend).service;
    const late = await second.createAgent(create(51));
    expect(late).toEqual({ kind: 'completed', reason: 'job already completed' });
    expect(backend.agents).toHaveLength(1);
    expect((await second.createAgent(create(52))).kind).toBe('launched');
  });

  it('is what stops the second launch: without the store the fresh process launches again', async () => {
    const backend = new GatedBackend();
    const first = setup(makeStore(), backend).service;
    await first.createAgent(create(53));
    await first.jobCompleted(completion(53));
    const unshared = setup(undefined, backend).service;
    expect((await unshared.createAgent(create(53))).kind).toBe('launched');
  });

  it('outlives ECS’s 24-hour client-token lifetime', async () => {
    const store = makeStore();
    const puts: number[] = [];
    const spy: KeyValueStore = {
      get: (k) => store.get(k),
      put: (k, v, ttl) => {
        puts.push(ttl);
        return store.put(k, v, ttl);
      },
      putIfAbsent: (k, v, ttl) => store.putIfAbsent(k, v, ttl),
      delete: (k, v) => store.delete(k, v),
    };
    const { service } = setup(spy);
    await service.createAgent(create(54));
    await service.jobCompleted(completion(54));
    expect(puts).toHaveLength(1);
    expect(puts[0]).toBeGreaterThan(24 * 3600);
  });
});
