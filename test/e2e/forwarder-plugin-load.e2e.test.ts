import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOADER_REQUEST_NAMES, UNLOAD_ON_FAILURE } from '../../src/gocd/loader-requests.js';
import { fixture } from '../support/gocd-bodies.js';
import {
  closedPort,
  closeServer,
  cmd,
  ensureBuilt,
  forwarderToolsAvailable,
  type HostOptions,
  type HostRun,
  JAR,
  type LoadResult,
  PLUGIN_DIR,
  runHost,
  startSilentService,
  urlOf,
} from '../support/gocd-host.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// GoCD loads an elastic-agent plugin by asking it migrate-config, then the plugin-info requests, then the
// plugin-settings ones, with no time limit; any answer but 200 to an elastic one unloads the plugin until GoCD restarts
// (reference/gocd-protocol.md §7.1; the harness's rules cite GoCD's classes). The service's state must never matter.

const ok = forwarderToolsAvailable();
const MIGRATE = fixture('migrate-config.json');

/** What the service itself answers, status and body, for a request name (as the forwarder would forward it). */
async function serviceAnswer(t: TestApp, name: string, body?: unknown) {
  const res = await t.app.inject({
    method: 'POST',
    url: `/gocd/requests/${name}`,
    headers: t.auth,
    payload: body === undefined ? '' : JSON.stringify(body),
  });
  return { status: res.statusCode, body: res.body };
}

describe.skipIf(!ok)("GoCD's loader and the forwarder jar", () => {
  let t: TestApp;
  let silent: Server;
  const silentSaw: string[] = [];

  beforeAll(async () => {
    ensureBuilt();
    t = await createTestApp();
    silent = await startSilentService(silentSaw);
  }, 420_000);

  afterAll(async () => {
    await closeServer(silent);
    await t?.close();
  });

  it("carries in the jar exactly the service's answer to every loader request (one source of truth)", async () => {
    const entry = 'gocd/agent/scaler/forwarder/loader-answers.json';
    const out = mkdtempSync(join(tmpdir(), 'forwarder-jar-'));
    execFileSync('jar', ['--extract', '--file', JAR, entry], { cwd: out });
    const copy = JSON.parse(readFileSync(join(out, entry), 'utf8')) as {
      answers: Record<string, { status: number; body: string }>;
    };
    rmSync(out, { recursive: true, force: true });
    expect(Object.keys(copy.answers)).toEqual([...LOADER_REQUEST_NAMES]);
    for (const name of LOADER_REQUEST_NAMES) {
      expect(copy.answers[name], name).toEqual(await serviceAnswer(t, name));
    }
  });

  const conditions: [string, () => Promise<HostOptions>][] = [
    [
      'the service is down',
      async () => ({ via: 'env', url: `http://127.0.0.1:${await closedPort()}`, token: t.token }),
    ],
    [
      'the service is slower than the forwarder deadline',
      async () => ({
        via: 'properties',
        url: urlOf(silent),
        token: t.token,
        properties: { 'gocd.agent.scaler.request.timeout.ms': '400' },
      }),
    ],
    ['the forwarder is not configured', async () => ({ via: 'unconfigured' })],
  ];

  describe.each(conditions)('when %s', (_condition, options) => {
    let run: HostRun;
    let load: LoadResult;

    beforeAll(async () => {
      run = await runHost([cmd.load(MIGRATE), cmd.handle('go.plugin-settings.get-view')], await options());
      load = run.loads[0]!;
    }, 120_000);

    it('stays loaded: every elastic-agent loader request answers 200 (else "GoCD would unload this plugin")', () => {
      expect(load.verdict).toBe('GoCD keeps the plugin loaded');
      expect(load.loaded).toBe(true);
      const elastic = load.steps.filter((s) => UNLOAD_ON_FAILURE.has(s.request));
      expect(elastic.map((s) => s.request)).toEqual([...UNLOAD_ON_FAILURE]);
      for (const step of elastic)
        expect([step.request, step.status, step.problem]).toEqual([step.request, 200, undefined]);
    });

    it('answers each one with the same body the service gives', async () => {
      for (const step of load.steps) {
        if (step.request === 'cd.go.elastic-agent.migrate-config') continue;
        expect({ status: step.status, body: step.body }, step.request).toEqual(await serviceAnswer(t, step.request));
      }
      const view = run.handled[0]!;
      expect({ status: view.status, body: view.body }).toEqual(await serviceAnswer(t, 'go.plugin-settings.get-view'));
    });

    it("answers migrate-config as the service does, keeping GoCD's profiles", async () => {
      const migrate = load.steps[0]!;
      expect(migrate.request).toBe('cd.go.elastic-agent.migrate-config');
      expect(migrate.status).toBe(200);
      expect(JSON.parse(migrate.body!)).toEqual(
        JSON.parse((await serviceAnswer(t, 'cd.go.elastic-agent.migrate-config', MIGRATE)).body),
      );
    });

    it('declines the plugin settings the way GoCD logs as safe to ignore, so it never asks for their view', () => {
      expect(load.pluginSettings).toMatch(/^declined \(GoCD logs it as safe to ignore\): answered 404/);
      expect(load.steps.map((s) => s.request)).not.toContain('go.plugin-settings.get-view');
      expect(load.steps.map((s) => s.request)).toEqual([
        'cd.go.elastic-agent.migrate-config',
        ...LOADER_REQUEST_NAMES.filter((n) => n !== 'go.plugin-settings.get-view'),
      ]);
    });

    it('calls nothing on GoCD and nothing on the network while loading', () => {
      expect(load.accessorCalls).toEqual([]);
      expect(silentSaw.filter((name) => load.steps.some((s) => s.request === name))).toEqual([]);
    });
  });
});

describe.skipIf(!ok)("the harness's loader rules themselves (a probe plugin that misbehaves on one request)", () => {
  let dir: string;
  let probeJar: string;

  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'probe-plugin-'));
    const src = join(import.meta.dirname, '..', 'support', 'probe-plugin');
    const classes = join(dir, 'classes');
    mkdirSync(classes);
    execFileSync('javac', [
      '--release',
      '17',
      '-cp',
      join(PLUGIN_DIR, 'build', 'stubs'),
      '-d',
      classes,
      join(src, 'ProbePlugin.java'),
    ]);
    cpSync(join(src, 'plugin.xml'), join(classes, 'plugin.xml'));
    probeJar = join(dir, 'probe.jar');
    execFileSync('jar', ['--create', '--file', probeJar, '-C', classes, '.']);
  }, 420_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const probe = async (request?: string, status?: number, body?: string): Promise<LoadResult> => {
    const properties: Record<string, string> = {};
    if (request) properties['probe.request'] = request;
    if (status !== undefined) properties['probe.status'] = String(status);
    if (body !== undefined) properties['probe.body'] = body;
    const run = await runHost([cmd.load()], { via: 'unconfigured', jar: probeJar, properties });
    return run.loads[0]!;
  };

  it('keeps a well-behaved plugin loaded and stores its plugin settings after asking their view', async () => {
    const load = await probe();
    expect([load.loaded, load.pluginSettings]).toEqual([true, 'stored']);
    expect(load.steps.at(-1)!.request).toBe('go.plugin-settings.get-view');
  });

  it.each([...UNLOAD_ON_FAILURE])('fails as "GoCD would unload this plugin" when %s answers 500', async (request) => {
    const load = await probe(request, 500);
    expect(load.loaded).toBe(false);
    expect(load.verdict).toBe(
      `GoCD would unload this plugin: ${request} answered 500 (PluginRequestHelper accepts only 200)`,
    );
  });

  it('fails a blank view template as GoCD does ("Template was blank!")', async () => {
    const load = await probe('cd.go.elastic-agent.get-cluster-profile-view', 200, '{"template":" "}');
    expect(load.verdict).toBe(
      'GoCD would unload this plugin: cd.go.elastic-agent.get-cluster-profile-view Template was blank!',
    );
  });

  it('marks the plugin invalid when migrate-config leaves out the profile lists', async () => {
    const load = await probe('cd.go.elastic-agent.migrate-config', 200, '{}');
    expect(load.verdict).toMatch(/^GoCD would mark this plugin invalid and unload it: .*cluster_profiles is missing/);
  });

  it('keeps the plugin when the plugin settings answer is {} but records GoCD\'s "Empty response body"', async () => {
    const load = await probe('go.plugin-settings.get-configuration', 200, '{}');
    expect(load.loaded).toBe(true);
    expect(load.pluginSettings).toBe('declined (GoCD logs it as safe to ignore): Empty response body');
  });
});
