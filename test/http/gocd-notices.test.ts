import { Ajv, type ValidateFunction } from 'ajv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import type { ConsoleNotice, HealthMessage } from '../../src/agents/notices.js';
import { MAX_HEALTH_MESSAGES } from '../../src/agents/request-notices.js';
import { componentSchema, loadOpenApi } from '../../src/http/openapi.js';
import { CLUSTER, createAgentBody, job, PROFILE } from '../support/gocd-bodies.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// What GoCD users are told about their job's agent: console lines once per state change, server-health messages for
// problems an administrator must fix, cleared when the cluster recovers (the reply contract in openapi.yaml).

const spec = loadOpenApi();
const ajv = new Ajv({ allErrors: true, strict: false });
const replySchema: Record<string, ValidateFunction> = Object.fromEntries(
  Object.entries(spec.doc['x-gocd-replies'] as Record<string, string>).map(([name, schema]) => [
    name,
    ajv.compile(componentSchema(spec, schema)),
  ]),
);

interface Reply {
  console?: ConsoleNotice[];
  health?: HealthMessage[];
  agent_actions?: { disable: string[]; delete: string[] };
}

let t: TestApp;
let clock: number;
beforeEach(async () => {
  clock = Date.parse('2026-12-07T09:00:00Z');
  t = await createTestApp({
    now: () => new Date(clock),
    // The operator allows DinD; the cluster profile's own gate is what these tests turn on and off.
    yaml: 'policy: { allow: { privileged: true } }\n',
  });
});
afterEach(async () => {
  await t.close();
});

/** Posts a GoCD request and checks the reply against its openapi.yaml schema (x-gocd-replies). */
async function post(short: string, body: unknown): Promise<Reply> {
  const name = `cd.go.elastic-agent.${short}`;
  const res = await t.app.inject({
    method: 'POST',
    url: `/gocd/requests/${name}`,
    headers: t.auth,
    payload: JSON.stringify(body),
  });
  expect(res.statusCode).toBe(200);
  const reply = res.json() as Reply;
  const validate = replySchema[name]!;
  expect(validate(reply), JSON.stringify(validate.errors)).toBe(true);
  return reply;
}

const PRIVILEGED = { ...PROFILE, docker_mode: 'privileged' };
const ping = (agents?: unknown[]) => ({ all_cluster_profile_properties: [CLUSTER], ...(agents ? { agents } : {}) });
/** The job fields of a console entry for job(…) of gocd-bodies: GoCD's console-log.append 2.0 body. */
const JOB_FIELDS = {
  pipeline_name: 'app',
  pipeline_counter: 7,
  stage_name: 'test',
  stage_counter: '1',
  job_name: 'build',
};

describe('a create-agent refused by a gate', () => {
  it('tells the job once and the administrator once, naming the cluster profile and the gate', async () => {
    const first = await post('create-agent', createAgentBody(1, { elastic_agent_profile_properties: PRIVILEGED }));
    expect(first.console).toHaveLength(1);
    const { text, ...where } = first.console![0]!;
    expect(where).toEqual(JOB_FIELDS);
    expect(text).toContain('Cannot launch an elastic agent for this job');
    expect(text).toContain('allow_privileged=true');
    expect(first.health).toHaveLength(1);
    expect(first.health![0]!.type).toBe('error');
    expect(first.health![0]!.message).toContain('cluster profile test');
    expect(first.health![0]!.message).toContain('allow_privileged=true');

    // GoCD re-sends create-agent every ~2 minutes while the job waits: nothing new to say.
    clock += 120_000;
    expect(await post('create-agent', createAgentBody(1, { elastic_agent_profile_properties: PRIVILEGED }))).toEqual(
      {},
    );
  });

  it('clears the message once the cluster profile allows it and the agent launches', async () => {
    await post('create-agent', createAgentBody(2, { elastic_agent_profile_properties: PRIVILEGED }));
    const allowed = { ...CLUSTER, allow_privileged: 'true' };
    const launched = await post(
      'create-agent',
      createAgentBody(2, { elastic_agent_profile_properties: PRIVILEGED, cluster_profile_properties: allowed }),
    );
    expect(launched.health).toEqual([]);
    expect(launched.console).toHaveLength(1);
    expect(launched.console![0]!.text).toMatch(
      /^Launched elastic agent ea-2-[0-9a-f]{8} for this job: container mem-1/,
    );
    expect(launched.console![0]!.text).toContain('docker mode privileged');
  });
});

describe('a create-agent that fails at the backend', () => {
  it('tells the job and the administrator once, with what to check, and clears after a successful launch', async () => {
    t.backend.failLaunch = 'AccessDeniedException: User is not authorized to perform: ecs:RunTask';
    const failed = await post('create-agent', createAgentBody(3));
    expect(failed.console).toHaveLength(1);
    expect(failed.console![0]!.text).toContain('Launching an elastic agent failed on cluster profile test');
    expect(failed.console![0]!.text).toContain('IAM permissions');
    expect(failed.health).toEqual([
      {
        type: 'error',
        message: expect.stringMatching(/^gocd-agent-scaler: cluster profile test \(Docker engine local\): launching/),
      },
    ]);
    expect(await post('create-agent', createAgentBody(3))).toEqual({});

    // Another job launches on the same cluster profile: the cluster works again.
    t.backend.failLaunch = undefined;
    const other = await post('create-agent', createAgentBody(4));
    expect(other.health).toEqual([]);
    // The failed job's own retry launches and says so, once.
    const retried = await post('create-agent', createAgentBody(3));
    expect(retried.console).toHaveLength(1);
    expect(retried.console![0]!.text).toContain('Launched elastic agent');
    expect(retried.health).toBeUndefined();
  });

  it('reports no room (placement failures) as waiting and as a warning, not an error', async () => {
    t.backend.failLaunch = 'RESOURCE:MEMORY';
    const reply = await post('create-agent', createAgentBody(5));
    expect(reply.console![0]!.text).toMatch(
      /^Waiting for an elastic agent: .* has no room for it now: RESOURCE:MEMORY/,
    );
    expect(reply.health![0]!.type).toBe('warning');
  });

  it('reports an engine or cloud API it cannot reach (listing fails) with what to check', async () => {
    t.backend.failList = true;
    const reply = await post('create-agent', createAgentBody(6));
    expect(reply.console![0]!.text).toContain('listing failed (test)');
    expect(reply.health![0]!.message).toContain('launching agents fails');
  });
});

describe('waiting for max_agents', () => {
  it('says why once per waiting job, and says nothing to the administrator (it is by design)', async () => {
    for (const id of [10, 11, 12]) await post('create-agent', createAgentBody(id));
    const waiting = await post('create-agent', createAgentBody(13));
    expect(waiting.console![0]!.text).toMatch(/^Waiting for an elastic agent: max_agents \(3\) reached/);
    expect(waiting.console![0]!.text).toContain('raise max_agents');
    expect(waiting.health).toBeUndefined();
    expect(await post('create-agent', createAgentBody(13))).toEqual({});
  });
});

describe('an agent registering and its job completing', () => {
  it('tells the job when GoCD lists its agent, once, and how long the agent lived when the job completed', async () => {
    await post('create-agent', createAgentBody(20));
    const agentId = agentIdFor('test', 20);
    const gocdAgent = { agent_id: agentId, agent_state: 'Building', build_state: 'Building', config_state: 'Enabled' };
    clock += 45_000;
    const pinged = await post('server-ping', ping([gocdAgent]));
    expect(pinged.console).toEqual([
      { ...JOB_FIELDS, text: `Elastic agent ${agentId} registered with GoCD, 45s after it was launched.` },
    ]);
    expect((await post('server-ping', ping([gocdAgent]))).console).toBeUndefined();

    t.backend.childrenPerStop = 2;
    clock += 5 * 60_000;
    const done = await post('job-completion', {
      elastic_agent_id: agentId,
      elastic_agent_profile_properties: PROFILE,
      cluster_profile_properties: CLUSTER,
      job_identifier: job(20),
    });
    expect(done.console).toHaveLength(1);
    expect(done.console![0]!.text).toBe(
      `Job completed: elastic agent ${agentId} (container mem-1) stopped after 5m 45s; 2 container(s) the job started through the Docker socket removed.`,
    );
  });

  it('tells the job when server-ping reaps an agent that never registered', async () => {
    await post('create-agent', createAgentBody(21));
    clock += 11 * 60_000;
    const reply = await post('server-ping', ping([]));
    expect(reply.console).toHaveLength(1);
    expect(reply.console![0]!.text).toContain('stopped: ');
    expect(reply.console![0]!.text).toContain('GoCD asks for a new one');
  });
});

describe('server-ping and the server-health board', () => {
  it('always carries the complete set, so a restarted GoCD gets the messages back', async () => {
    t.backend.failLaunch = 'AccessDeniedException';
    await post('create-agent', createAgentBody(30));
    const first = await post('server-ping', ping([]));
    const second = await post('server-ping', ping([]));
    expect(first.health).toHaveLength(1);
    expect(second.health).toEqual(first.health);
  });

  it('reports a cluster whose agents cannot be listed, and clears it when listing works again', async () => {
    t.backend.failList = true;
    const failing = await post('server-ping', ping([]));
    expect(failing.health).toEqual([
      { type: 'error', message: expect.stringContaining('cluster profile test (Docker engine local): cannot list') },
    ]);
    t.backend.failList = false;
    expect((await post('server-ping', ping([]))).health).toEqual([]);
  });

  it('reports a cluster profile the service refuses, naming it, and drops messages of profiles GoCD no longer has', async () => {
    const broken = { cluster_id: 'broken', max_agents: 'many' };
    const reply = await post('server-ping', { all_cluster_profile_properties: [CLUSTER, broken], agents: [] });
    expect(reply.health).toEqual([
      { type: 'error', message: expect.stringMatching(/cluster profile broken is refused: .*max_agents/) },
    ]);
    expect((await post('server-ping', ping([]))).health).toEqual([]);
  });

  it('keeps problems of several clusters side by side, each naming its own', async () => {
    t.backend.failLaunch = 'AccessDeniedException';
    await post('create-agent', createAgentBody(40));
    const other = { ...CLUSTER, cluster_id: 'other' };
    await post('create-agent', createAgentBody(41, { cluster_profile_properties: other }));
    const reply = await post('server-ping', { all_cluster_profile_properties: [CLUSTER, other], agents: [] });
    expect(reply.health!.map((h) => h.message.match(/cluster profile (\w+)/)![1])).toEqual(['other', 'test']);
  });
});

describe('a refused elastic profile the administrator then edits', () => {
  // The message's topic is a hash of the profile's properties: once edited, no create-agent ever clears the old one.
  it('drops its message at the first server-ping 10 minutes after the refused profile was last asserted', async () => {
    const refused = await post('create-agent', createAgentBody(60, { elastic_agent_profile_properties: PRIVILEGED }));
    expect(refused.health).toEqual([{ type: 'error', message: expect.stringContaining('allow_privileged=true') }]);
    // Edited: the job's next create-agent (GoCD re-sends about every 2 minutes) carries the new profile and launches.
    clock += 2 * 60_000;
    const edited = { ...PROFILE, image: 'gocd/gocd-agent-debian-12:v25.2.0' };
    expect(
      (await post('create-agent', createAgentBody(60, { elastic_agent_profile_properties: edited }))).console,
    ).toEqual([expect.objectContaining({ text: expect.stringContaining('Launched elastic agent') })]);
    clock += 7 * 60_000;
    expect((await post('server-ping', ping([]))).health).toHaveLength(1);
    clock += 60_000 + 1;
    expect((await post('server-ping', ping([]))).health).toEqual([]);
  });

  it('keeps it while jobs using the refused profile still ask for agents', async () => {
    for (let minute = 0; minute <= 30; minute += 2) {
      await post('create-agent', createAgentBody(61, { elastic_agent_profile_properties: PRIVILEGED }));
      const ping1 = await post('server-ping', ping([]));
      expect(ping1.health, `minute ${minute}`).toHaveLength(1);
      clock += 2 * 60_000;
    }
  });
});

describe('request values of any size', () => {
  it('are clipped in console lines, health messages and store keys, so the health item stays small', async () => {
    const writes: { key: string; bytes: number }[] = [];
    const put = t.noticeStore.put.bind(t.noticeStore);
    t.noticeStore.put = async (key, value, ttl) => {
      writes.push({ key, bytes: Buffer.byteLength(key) + Buffer.byteLength(value) });
      return put(key, value, ttl);
    };
    const huge = (c: string, n: number) => c.repeat(n);
    const replies: Reply[] = [];
    for (let i = 0; i < MAX_HEALTH_MESSAGES + 5; i++) {
      // An invalid cluster profile (a 3 KB cluster_id, a 100 KB cluster, a 100 KB max_agents) and a 300 KB image.
      const cluster = {
        ...CLUSTER,
        cluster_id: `${i}${huge('c', 3_000)}`,
        cluster: huge('k', 100_000),
        max_agents: huge('9x', 50_000),
      };
      const profile = { ...PROFILE, image: huge('i', 300_000), docker_mode: huge('d', 10_000) };
      replies.push(
        await post(
          'create-agent',
          createAgentBody(700 + i, { cluster_profile_properties: cluster, elastic_agent_profile_properties: profile }),
        ),
      );
    }
    const texts = replies.flatMap((r) => [
      ...(r.console ?? []).map((c) => c.text),
      ...(r.health ?? []).map((h) => h.message),
    ]);
    expect(texts.length).toBeGreaterThan(MAX_HEALTH_MESSAGES);
    for (const text of texts) expect(text.length).toBeLessThanOrEqual(1_001);
    for (const w of writes) expect(w.key.length, w.key.slice(0, 80)).toBeLessThan(100);
    const health = writes.filter((w) => w.key === '~notices|health');
    expect(Math.max(...health.map((w) => w.bytes))).toBeLessThan(100 * 1024);
  });
});

describe('when the notice store fails', () => {
  it('still answers, tells the console anyway and leaves health as GoCD shows it', async () => {
    t.noticeStore.get = async () => {
      throw new Error('store down');
    };
    const reply = await post('create-agent', createAgentBody(50, { elastic_agent_profile_properties: PRIVILEGED }));
    expect(reply.console).toHaveLength(1);
    expect(reply.health).toBeUndefined();
  });
});

describe('a flood of broken cluster profiles', () => {
  it('keeps at most MAX_HEALTH_MESSAGES messages on the panel', async () => {
    let last: Reply = {};
    for (let i = 0; i < MAX_HEALTH_MESSAGES + 5; i++) {
      const cluster = { ...CLUSTER, cluster_id: `c${i}` };
      last = await post(
        'create-agent',
        createAgentBody(900 + i, { elastic_agent_profile_properties: PRIVILEGED, cluster_profile_properties: cluster }),
      );
    }
    expect(last.health).toBeUndefined();
    const all = await post('server-ping', {
      all_cluster_profile_properties: Array.from({ length: MAX_HEALTH_MESSAGES + 5 }, (_, i) => ({
        ...CLUSTER,
        cluster_id: `c${i}`,
      })),
      agents: [],
    });
    expect(all.health).toHaveLength(MAX_HEALTH_MESSAGES);
  });
});
