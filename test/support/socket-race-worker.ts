// A scaler process for the socket-slot race test (test/e2e/docker-socket-race.e2e.test.ts): forked with tsx, it
// builds its own Docker backend and AgentService and answers each `launch` message with the create-agent outcome.
import { pino } from 'pino';
import { ActivityLog } from '../../src/agents/activity-log.js';
import { AgentService } from '../../src/agents/agent-service.js';
import { createDockerBackend } from '../../src/backends/docker/docker-backend.js';
import { job } from './gocd-bodies.js';
import { type EdgeService, profiles, viaEdge } from './profiles.js';

/** What the test sends: one create-agent for a socket-mode job on the engine at `dockerHost`. */
export interface RaceLaunch {
  round: number;
  jobId: number;
  dockerHost: string;
  clusterProperties: Record<string, string>;
  image: string;
}

/** What the worker answers. */
export interface RaceOutcome {
  round: number;
  kind: string;
  reason?: string;
  ms: number;
}

const logger = pino({ level: 'silent' });
let service: EdgeService | undefined;

process.on('message', async (message: RaceLaunch) => {
  service ??= viaEdge(
    new AgentService({
      profiles,
      backends: (() => {
        const backend = createDockerBackend({ dockerHost: message.dockerHost }, logger, { stopSeconds: 1 });
        return { forCluster: () => backend };
      })(),
      activity: new ActivityLog(),
      logger,
    }),
  );
  const started = performance.now();
  const outcome = await service.createAgent({
    autoRegisterKey: `race-${message.round}`,
    job: job(message.jobId),
    clusterProperties: message.clusterProperties,
    profileProperties: { image: message.image, docker_mode: 'socket' },
  });
  const reply: RaceOutcome = {
    round: message.round,
    kind: outcome.kind,
    ...('reason' in outcome && typeof outcome.reason === 'string' ? { reason: outcome.reason } : {}),
    ms: Math.round(performance.now() - started),
  };
  process.send?.(reply);
});
process.send?.({ ready: true });
