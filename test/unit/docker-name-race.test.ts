import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentIdFor } from '../../src/agents/agent-id.js';
import { containerNameFor, LABEL } from '../../src/backends/docker/container-spec.js';
import { createDockerBackend } from '../../src/backends/docker/docker-backend.js';
import { job } from '../support/gocd-bodies.js';
import { dockerCluster as parseClusterProfile, dockerProfile as parseElasticProfile } from '../support/profiles.js';

// The engine's rule, from moby/moby daemon/names.go: a create reserves its name first (`reserveName`, from
// `generateIDAndName`) and registers the container only when it is done. A second create of that name meanwhile gets
// 409, while inspecting the name still answers 404. On the real engine, 50 concurrent creates of one name saw 404 in
// 271 of 294 inspections made right after a 409. This fake engine plays exactly that: 409 on create, then 404 for
// the first `invisibleInspections` inspections of the name, then the winner's running container.

const CLUSTER_ID = 'race';
const JOB = 77;
const NAME = containerNameFor(CLUSTER_ID, JOB);
const AGENT_ID = agentIdFor(CLUSTER_ID, JOB);

function winner(): Record<string, unknown> {
  return {
    Id: 'a'.repeat(64),
    Name: `/${NAME}`,
    Created: new Date().toISOString(),
    Config: { Labels: { [LABEL.agentId]: AGENT_ID, [LABEL.jobId]: String(JOB), [LABEL.clusterId]: CLUSTER_ID } },
    State: { Status: 'running', StartedAt: new Date().toISOString() },
  };
}

describe('Docker backend: a create-agent that loses the name race', () => {
  let dir: string;
  let server: Server;
  let invisibleInspections: number;
  let inspections: number;
  const creates: string[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gas-fake-engine-'));
    inspections = 0;
    creates.length = 0;
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://engine');
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      req.resume();
      if (url.pathname.endsWith('/_ping')) return res.writeHead(200).end('OK');
      if (url.pathname.endsWith(`/containers/${NAME}/json`)) {
        inspections++;
        // The launch's own first look finds nothing (inspection 1); then the winner stays invisible for a while.
        if (inspections <= 1 + invisibleInspections) return send(404, { message: `No such container: ${NAME}` });
        return send(200, winner());
      }
      if (/\/images\/.+\/json$/.test(url.pathname)) return send(200, { Config: { Entrypoint: null, Cmd: ['sh'] } });
      if (url.pathname.endsWith('/containers/create')) {
        creates.push(url.searchParams.get('name') ?? '');
        return send(409, { message: `Conflict. The container name "/${NAME}" is already in use by container "aaa".` });
      }
      return send(404, { message: `unexpected ${req.method} ${url.pathname}` });
    });
    await new Promise<void>((r) => server.listen(join(dir, 'docker.sock'), r));
  });
  afterEach(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  async function launch() {
    const dockerHost = `unix://${join(dir, 'docker.sock')}`;
    const cluster = parseClusterProfile({
      go_server_url: 'https://gocd.example.com/go',
      cluster_id: CLUSTER_ID,
      docker_host: dockerHost,
    });
    const backend = await createDockerBackend({ dockerHost });
    return backend.launch({
      agentId: AGENT_ID,
      job: job(JOB),
      cluster,
      profile: parseElasticProfile({ image: 'agent:1' }),
      jobEnv: {},
    });
  }

  it('waits for the winner’s container to become visible and answers existing, creating nothing more', async () => {
    invisibleInspections = 5;
    const outcome = await launch();
    expect(outcome).toMatchObject({ kind: 'existing', agent: { agentId: AGENT_ID, jobId: JOB } });
    expect(creates).toEqual([NAME]);
    expect(inspections).toBe(1 + invisibleInspections + 1);
  });

  it('still answers existing when the holder is visible at once', async () => {
    invisibleInspections = 0;
    expect((await launch()).kind).toBe('existing');
    expect(creates).toEqual([NAME]);
  });
});
