import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { CLUSTER, createAgentBody, fixture, PROFILE } from '../support/gocd-bodies.js';
import {
  type AccessorCall,
  closedPort,
  closeServer,
  cmd,
  EA,
  ensureBuilt,
  type Forwarded,
  forwarderToolsAvailable,
  type HostRun,
  parseConsoleAppend,
  parseHealthMessages,
  runHost,
  startRecordingProxy,
  urlOf,
} from '../support/gocd-host.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const ok = forwarderToolsAvailable();

const JOB_ID = -1; // GoCD's own fixtures use job id -1
const AGENT_ID = agentIdFor(CLUSTER.cluster_id, JOB_ID);
const GOCD_AGENT = { agent_id: AGENT_ID, agent_state: 'Idle', build_state: 'Idle', config_state: 'Enabled' };
const CONSOLE = 'go.processor.console-log.append';
const HEALTH = 'go.processor.server-health.add-messages';

/** GoCD's captured bodies, with our property keys where the service needs to act on them. */
const bodies = {
  createAgent: {
    ...fixture('create-agent.json'),
    cluster_profile_properties: CLUSTER,
    elastic_agent_profile_properties: PROFILE,
  },
  shouldAssign: (agentId: string) => {
    const f = fixture<{ agent: Record<string, unknown>; job_identifier: Record<string, unknown> }>(
      'should-assign-work.json',
    );
    return {
      ...f,
      agent: { ...f.agent, agent_id: agentId },
      cluster_profile_properties: CLUSTER,
      job_identifier: { ...f.job_identifier, job_id: JOB_ID },
    };
  },
  serverPing: { ...fixture('server-ping.json'), all_cluster_profile_properties: [CLUSTER] },
  jobCompletion: {
    ...fixture('job-completion.json'),
    elastic_agent_id: AGENT_ID,
    cluster_profile_properties: CLUSTER,
    elastic_agent_profile_properties: PROFILE,
  },
  migrateConfig: fixture('migrate-config.json'),
};
/** The console GoCD keeps for the fixture's job (create-agent.json): `up42/2/up42_stage/10/up42_job`. */
const FIXTURE_JOB = 'up42/2/up42_stage/10/up42_job';
const apis = (calls: AccessorCall[]) => calls.map((c) => c.api);

describe.skipIf(!ok)('the forwarder plugin jar, loaded by a GoCD plugin host, against the real service', () => {
  let t: TestApp;
  let proxy: Server;
  let proxyUrl: string;
  const seen: Forwarded[] = [];

  beforeAll(async () => {
    ensureBuilt();
    // The operator allows DinD; the cluster profile's own gate is what the notice tests turn on and off.
    t = await createTestApp({ yaml: 'policy: { allow: { privileged: true } }\n' });
    proxy = await startRecordingProxy(await t.app.listen({ host: '127.0.0.1', port: 0 }), seen);
    proxyUrl = urlOf(proxy);
  }, 420_000);

  afterAll(async () => {
    await closeServer(proxy);
    await t?.close();
  });

  describe('a full job lifecycle with the service up (settings from the environment)', () => {
    let run: HostRun;
    const result = (name: string, nth = 0) => run.handled.filter((h) => h.request === `${EA}${name}`)[nth]!;

    beforeAll(async () => {
      seen.length = 0;
      run = await runHost(
        [
          cmd.load(bodies.migrateConfig),
          cmd.handle(`${EA}validate-elastic-agent-profile`, { image: null, cpu: null }),
          cmd.handle(`${EA}create-agent`, bodies.createAgent),
          cmd.parallel(6, `${EA}create-agent`, bodies.createAgent),
          cmd.handle(`${EA}should-assign-work`, bodies.shouldAssign(AGENT_ID)),
          cmd.handle(`${EA}should-assign-work`, fixture('should-assign-work.json')),
          cmd.listAgents(200, [GOCD_AGENT]),
          cmd.handle(`${EA}server-ping`, bodies.serverPing),
          cmd.handle(`${EA}job-completion`, bodies.jobCompletion),
          cmd.state(),
        ],
        { via: 'env', url: proxyUrl, token: t.token },
      );
    }, 120_000);

    it('is found by the host like GoCD finds it: one @Extension, plugin id gocd-agent-scaler, elastic-agent 5.0', () => {
      expect(run.loaded).toMatchObject({
        pluginId: 'gocd-agent-scaler',
        extensionClass: 'gocd.agent.scaler.forwarder.ForwarderPlugin',
        extension: 'elastic-agent',
        versions: ['5.0'],
      });
      expect(run.loaded.entries.filter((e) => e.startsWith('com/thoughtworks/'))).toEqual([]);
      expect(run.loaded.entries).toEqual(
        expect.arrayContaining(['plugin.xml', 'lib/gson.jar', 'gocd/agent/scaler/forwarder/loader-answers.json']),
      );
      expect(run.loaded.gsonFrom).toMatch(/\/lib\/gson\.jar$/);
    });

    it("stays loaded through GoCD's loader, which never reaches the service", () => {
      const load = run.loads[0]!;
      expect(load.verdict).toBe('GoCD keeps the plugin loaded');
      expect(load.pluginSettings).toMatch(/^declined \(GoCD logs it as safe to ignore\): answered 404/);
      expect(seen.filter((s) => load.steps.some((step) => step.request === s.name))).toEqual([]);
    });

    it('forwards bodies verbatim with the bearer token', () => {
      const create = seen.find((s) => s.name === `${EA}create-agent`)!;
      expect(create).toMatchObject({ authorization: `Bearer ${t.token}`, contentType: 'application/json' });
      expect(JSON.parse(create.body)).toEqual(bodies.createAgent);
      expect(result('validate-elastic-agent-profile').status).toBe(200);
      expect(JSON.parse(result('validate-elastic-agent-profile').body!)).toEqual(
        expect.arrayContaining([expect.objectContaining({ key: 'image' })]),
      );
    });

    it('makes create-agent launch exactly one agent, even when GoCD threads send it concurrently', () => {
      expect([result('create-agent').status, result('create-agent').body]).toEqual([200, '{}']);
      expect(run.parallel[0]!.results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const forJob = t.backend.agents.filter((a) => a.jobId === JOB_ID);
      expect(forJob.map((a) => a.agentId)).toEqual([AGENT_ID]);
      expect(forJob[0]!.env.GO_EA_AUTO_REGISTER_ELASTIC_PLUGIN_ID).toBe(run.loaded.pluginId);
    });

    it("tells the job's console that its agent launched, once, in the body GoCD's processor parses", () => {
      const calls = result('create-agent').accessorCalls;
      expect(apis(calls)).toEqual([CONSOLE]);
      expect(calls[0]!.status).toBe(200);
      const line = parseConsoleAppend(calls[0]!);
      expect(line).toMatchObject({
        pipeline_name: 'up42',
        pipeline_counter: 2,
        stage_name: 'up42_stage',
        stage_counter: '10',
        job_name: 'up42_job',
      });
      expect(line.text).toMatch(
        /^##\|\d\d:\d\d:\d\d\.\d\d\d \[go\] Launched elastic agent ea--1-[0-9a-f]{8} for this job/,
      );
      const console = run.states[0]!.consoles[FIXTURE_JOB]!;
      expect(console.match(/Launched elastic agent/g)).toHaveLength(1);
    });

    it('answers should-assign-work inside the plugin: the service never sees it', () => {
      const answers = run.handled.filter((h) => h.request === `${EA}should-assign-work`);
      expect(answers.map((a) => [a.status, a.body])).toEqual([
        [200, 'true'],
        [200, 'false'],
      ]);
      expect(answers.flatMap((a) => a.accessorCalls)).toEqual([]);
      expect(seen.filter((s) => s.name.endsWith('should-assign-work'))).toEqual([]);
    });

    it("sends server-ping with GoCD's agent list, tells the job its agent registered, and sets health", () => {
      const ping = result('server-ping');
      expect([ping.status, ping.body]).toEqual([200, '{}']);
      expect(apis(ping.accessorCalls)).toEqual(['go.processor.elastic-agents.list-agents', CONSOLE, HEALTH]);
      expect(parseConsoleAppend(ping.accessorCalls[1]!).text).toContain(
        `Elastic agent ${AGENT_ID} registered with GoCD`,
      );
      expect(parseHealthMessages(ping.accessorCalls[2]!)).toEqual([]);
      const forwarded = JSON.parse(seen.find((s) => s.name === `${EA}server-ping`)!.body);
      // Plus the forwarder's instance id, which warm-pool agents are named after (docs/DESIGN.md "Warm pools").
      expect(forwarded).toEqual({
        ...bodies.serverPing,
        agents: [GOCD_AGENT],
        forwarder_instance: expect.stringMatching(/^[0-9a-f]{8}$/),
        // The job's wait, measured by the jar from its create-agent to its should-assign-work true (GoCD's clock).
        job_waits: [{ agent_id: AGENT_ID, job_id: expect.any(Number), wait_ms: expect.any(Number), warm: false }],
      });
    });

    it('ends job-completion with the agent stopped, disabled, deleted, and the job told how long it lived', () => {
      const done = result('job-completion');
      expect([done.status, done.body]).toEqual([200, '{}']);
      expect(done.accessorCalls.map((c) => [c.api, c.version, c.extension])).toEqual([
        ['go.processor.elastic-agents.list-agents', '1.0', 'elastic-agent'],
        ['go.processor.elastic-agents.disable-agents', '1.0', 'elastic-agent'],
        ['go.processor.elastic-agents.delete-agents', '1.0', 'elastic-agent'],
        [CONSOLE, '2.0', 'elastic-agent'],
      ]);
      expect(JSON.parse(done.accessorCalls[1]!.body!)).toEqual([GOCD_AGENT]);
      expect(JSON.parse(done.accessorCalls[2]!.body!)).toEqual([GOCD_AGENT]);
      expect(parseConsoleAppend(done.accessorCalls[3]!).text).toMatch(
        /Job completed: elastic agent .* stopped after \d+s/,
      );
      expect(t.backend.stops.map((s) => s.agentId)).toEqual([AGENT_ID]);
    });

    it('never writes the token to the plugin log', () => {
      expect(run.logs.length).toBeGreaterThan(0);
      expect(run.logs.join('\n')).not.toContain(t.token);
      expect(run.stderr).not.toContain(t.token);
    });
  });

  describe('a create-agent refused by a gate, through the jar', () => {
    let run: HostRun;
    const refused = createAgentBody(501, {
      elastic_agent_profile_properties: { ...PROFILE, docker_mode: 'privileged' },
    });
    const allowed = createAgentBody(501, {
      elastic_agent_profile_properties: { ...PROFILE, docker_mode: 'privileged' },
      cluster_profile_properties: { ...CLUSTER, allow_privileged: 'true' },
    });

    beforeAll(async () => {
      run = await runHost(
        [
          cmd.handle(`${EA}create-agent`, refused),
          cmd.state(),
          cmd.handle(`${EA}create-agent`, refused),
          cmd.handle(`${EA}create-agent`, allowed),
          cmd.state(),
        ],
        { via: 'env', url: proxyUrl, token: t.token },
      );
    }, 120_000);

    it('a create-agent refused by a gate: one console line for the job and one server-health error', () => {
      const [first, again] = run.handled;
      expect(apis(first!.accessorCalls)).toEqual([CONSOLE, HEALTH]);
      expect(parseConsoleAppend(first!.accessorCalls[0]!).text).toContain('needs allow_privileged=true');
      const health = parseHealthMessages(first!.accessorCalls[1]!);
      expect(health).toHaveLength(1);
      expect(health[0]).toMatchObject({ type: 'error', message: expect.stringContaining('cluster profile test') });
      expect(run.states[0]!.health).toEqual([{ level: 'error', message: health[0]!.message }]);
      expect(run.states[0]!.consoles['app/7/test/1/build']!.split('\n').filter(Boolean)).toHaveLength(1);
      // GoCD's re-send 2 minutes later says nothing new.
      expect([again!.status, again!.body, again!.accessorCalls]).toEqual([200, '{}', []]);
    });

    it('clears the message once that cluster profile launches the agent', () => {
      const launched = run.handled[2]!;
      expect(apis(launched.accessorCalls)).toEqual([CONSOLE, HEALTH]);
      expect(parseHealthMessages(launched.accessorCalls[1]!)).toEqual([]);
      expect(run.states[1]!.health).toEqual([]);
    });
  });

  describe('a create-agent that fails at the backend, through the jar', () => {
    let run: HostRun;

    beforeAll(async () => {
      t.backend.failLaunch = 'AccessDeniedException: not authorized to perform ecs:RunTask';
      const failing = await runHost(
        [
          cmd.fail(CONSOLE, 500),
          cmd.handle(`${EA}create-agent`, createAgentBody(602)),
          cmd.fail(CONSOLE, 'clear'),
          cmd.state(),
        ],
        { via: 'env', url: proxyUrl, token: t.token },
      );
      t.backend.failLaunch = undefined;
      const recovering = await runHost([cmd.handle(`${EA}create-agent`, createAgentBody(603)), cmd.state()], {
        via: 'env',
        url: proxyUrl,
        token: t.token,
      });
      run = {
        ...failing,
        handled: [...failing.handled, ...recovering.handled],
        states: [...failing.states, ...recovering.states],
      };
    }, 120_000);

    it('answers GoCD 200 even though GoCD refused the console call, and still sets one health error', () => {
      const failed = run.handled[0]!;
      expect([failed.status, failed.body]).toEqual([200, '{}']);
      expect(failed.accessorCalls.map((c) => [c.api, c.status])).toEqual([
        [CONSOLE, 500],
        [HEALTH, 200],
      ]);
      expect(parseConsoleAppend(failed.accessorCalls[0]!).text).toContain('IAM permissions');
      const health = parseHealthMessages(failed.accessorCalls[1]!);
      expect(health).toEqual([{ type: 'error', message: expect.stringContaining('launching agents fails') }]);
      expect(run.states[0]!.health).toHaveLength(1);
    });

    it('clears it after a successful launch for that cluster profile', () => {
      const launched = run.handled[1]!;
      expect(apis(launched.accessorCalls)).toEqual([CONSOLE, HEALTH]);
      expect(parseHealthMessages(launched.accessorCalls[1]!)).toEqual([]);
      expect(run.states[1]!.health).toEqual([]);
    });
  });

  describe('when the service is down (settings from system properties)', () => {
    let run: HostRun;

    beforeAll(async () => {
      run = await runHost(
        [
          cmd.handle(`${EA}create-agent`, bodies.createAgent),
          cmd.handle(`${EA}should-assign-work`, bodies.shouldAssign(AGENT_ID)),
          cmd.listAgents(200, [GOCD_AGENT]),
          cmd.handle(`${EA}server-ping`, bodies.serverPing),
          cmd.state(),
        ],
        { via: 'properties', url: `http://127.0.0.1:${await closedPort()}`, token: t.token },
      );
    }, 120_000);

    it('answers create-agent with an error status (GoCD re-sends it) and tells nobody anything false', () => {
      expect(run.handled[0]!.status).not.toBe(200);
      expect(run.handled[0]!.accessorCalls).toEqual([]);
    });

    it('answers server-ping with an error, touches no agent, and puts one error on the server-health panel', () => {
      const ping = run.handled[2]!;
      expect(ping.status).not.toBe(200);
      expect(apis(ping.accessorCalls)).toEqual(['go.processor.elastic-agents.list-agents', HEALTH]);
      expect(parseHealthMessages(ping.accessorCalls[1]!)).toEqual([
        { type: 'error', message: expect.stringMatching(/the service at http:\/\/127\.0\.0\.1:\d+ did not answer/) },
      ]);
      expect(run.states[0]!.health).toHaveLength(1);
    });

    it('still answers should-assign-work, from the plugin', () => {
      expect([run.handled[1]!.status, run.handled[1]!.body]).toEqual([200, 'true']);
    });

    it('logs why, without the token', () => {
      expect(run.logs.join('\n')).toMatch(/create-agent: no answer from the service at http:\/\/127\.0\.0\.1:\d+/);
      expect(run.logs.join('\n')).not.toContain(t.token);
    });
  });

  describe('when GoCD cannot list its agents', () => {
    it('forwards server-ping without an agent list, so the service treats it as unknown and deletes nothing', async () => {
      seen.length = 0;
      const run = await runHost(
        [cmd.listAgents(500, { message: 'internal error' }), cmd.handle(`${EA}server-ping`, bodies.serverPing)],
        { via: 'env', url: proxyUrl, token: t.token },
      );
      const ping = run.handled[0]!;
      expect([ping.status, ping.body]).toEqual([200, '{}']);
      expect(apis(ping.accessorCalls)).toEqual(['go.processor.elastic-agents.list-agents', HEALTH]);
      expect(JSON.parse(seen.find((s) => s.name === `${EA}server-ping`)!.body)).toEqual({
        ...bodies.serverPing,
        forwarder_instance: expect.stringMatching(/^[0-9a-f]{8}$/),
      });
    }, 120_000);
  });

  describe('with a wrong token', () => {
    it('gets the service refusal for ordinary requests, says so on the server-health panel, keeps migrate-config', async () => {
      const before = t.backend.launches.length;
      const run = await runHost(
        [
          cmd.handle(`${EA}create-agent`, bodies.createAgent),
          cmd.handle(`${EA}server-ping`, bodies.serverPing),
          cmd.handle(`${EA}migrate-config`, bodies.migrateConfig),
        ],
        { via: 'env', url: proxyUrl, token: 'not-the-token' },
      );
      expect(run.handled[0]!.status).toBe(401);
      expect(t.backend.launches.length).toBe(before);
      const health = parseHealthMessages(run.handled[1]!.accessorCalls.find((c) => c.api === HEALTH)!);
      expect(health[0]!.message).toContain('GOCD_AGENT_SCALER_TOKEN is not the service');
      expect(run.handled[1]!.accessorCalls.map((c) => c.body).join()).not.toContain('not-the-token');
      const { plugin_settings: _dropped, ...profiles } = bodies.migrateConfig as Record<string, unknown>;
      expect([run.handled[2]!.status, JSON.parse(run.handled[2]!.body!)]).toEqual([
        200,
        { plugin_settings: {}, ...profiles },
      ]);
    }, 120_000);
  });
});
