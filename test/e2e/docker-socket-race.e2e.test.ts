import { type ChildProcess, fork, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerBackend, type DockerBackend } from '../../src/backends/docker/docker-backend.js';
import { readSocketSlot } from '../../src/backends/docker/socket-slot.js';
import { cleanupRun, dockerClusterProps, localDocker, runId } from '../support/docker-engine.js';
import { dockerTestImagesReady, ensureTestImages, type TestImages } from '../support/docker-images.js';
import { type PrivateEngine, removeEverything, startPrivateEngine } from '../support/private-engine.js';
import { dockerCluster as parseClusterProfile } from '../support/profiles.js';
import type { RaceLaunch, RaceOutcome } from '../support/socket-race-worker.js';

const ok = dockerTestImagesReady();

const RUN = runId('e2er');
const ROUNDS = 10;
const WORKER = join(import.meta.dirname, '..', 'support', 'socket-race-worker.ts');

/** A forked scaler process (tsx) that launches socket agents on request. */
class Worker {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, (o: RaceOutcome) => void>();
  readonly ready: Promise<void>;

  constructor() {
    this.child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('exit', (code) => reject(new Error(`race worker exited ${code}`)));
      this.child.on('message', (m: RaceOutcome | { ready: true }) => {
        if ('ready' in m) resolve();
        else this.pending.get(m.round)?.(m);
      });
    });
  }

  launch(message: RaceLaunch): Promise<RaceOutcome> {
    return new Promise((resolve) => {
      this.pending.set(message.round, resolve);
      this.child.send(message);
    });
  }

  stop(): void {
    this.child.kill();
  }
}

describe.skipIf(!ok)('the socket slot under a race between two scaler processes, beside a CPU hog', () => {
  let engine: PrivateEngine;
  let images: TestImages;
  let cleaner: DockerBackend;
  const workers: Worker[] = [];
  const hogs: ChildProcess[] = [];

  beforeAll(async () => {
    images = await ensureTestImages();
    engine = await startPrivateEngine(RUN);
    await engine.load(images.agent);
    cleaner = await createDockerBackend({ dockerHost: engine.dockerHost }, pino({ level: 'silent' }), {
      stopSeconds: 1,
    });
    workers.push(new Worker(), new Worker());
    await Promise.all(workers.map((w) => w.ready));
  }, 180_000);
  afterAll(async () => {
    for (const w of workers) w.stop();
    for (const h of hogs) h.kill('SIGKILL');
    await engine?.stop();
    await cleanupRun(localDocker(), RUN, []);
  });

  it(`${ROUNDS} rounds in a row: two processes launch socket agents at once, and every round exactly one wins and holds the slot`, async () => {
    // A busy loop beside the race (one of the two cores; the rest of the suite runs on the other): the old "oldest
    // container wins" check let both processes win, or neither, on a loaded machine. Only for this test's rounds.
    hogs.push(spawn('/bin/sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
    const props = (suffix: string) =>
      dockerClusterProps(`${RUN}${suffix}`, {
        allow_socket_mount: 'true',
        docker_host: engine.dockerHost,
        network: 'none',
      });
    const rounds: string[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const outcomes = await Promise.all(
          workers.map((w, i) =>
            w.launch({
              round,
              jobId: 100 + round * 2 + i,
              dockerHost: engine.dockerHost,
              clusterProperties: props(i === 0 ? 'a' : 'b'),
              image: images.agent,
            }),
          ),
        );
        rounds.push(`round ${round + 1}: ${outcomes.map((o) => `${o.kind} (${o.ms} ms)`).join(' / ')}`);
        expect(outcomes.map((o) => o.kind).sort(), rounds.at(-1)).toEqual(['deferred', 'launched']);
        const agents = await engine.docker.listContainers({
          all: true,
          filters: { label: ['gocd-agent-scaler.docker-mode=socket', 'gocd-agent-scaler.role=agent'] },
        });
        expect(agents, 'one socket agent container on the engine').toHaveLength(1);
        expect((await readSocketSlot(engine.docker))?.keeper, 'the winner keeps the slot').toBe(agents[0]?.Id);
        // The winner's own stop releases the slot for the next round.
        const winner = outcomes.findIndex((o) => o.kind === 'launched');
        const cluster = parseClusterProfile(props(winner === 0 ? 'a' : 'b'));
        await cleaner.stop(cluster, await cleaner.list(cluster), 'next round');
        expect(await readSocketSlot(engine.docker)).toBeUndefined();
        await removeEverything(engine.docker);
      }
    } finally {
      for (const h of hogs) h.kill('SIGKILL');
    }
    console.log(`socket-slot race beside a CPU hog (2 scaler processes):\n  ${rounds.join('\n  ')}`);
  }, 600_000);
});
