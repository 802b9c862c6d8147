import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { ActivityLog } from '../../src/agents/activity-log.js';
import { AgentService } from '../../src/agents/agent-service.js';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config/config.schema.js';
import { parseConfig } from '../../src/config/config-loader.js';
import { createLogger } from '../../src/logger.js';
import { PrometheusMetrics } from '../../src/metrics/prometheus-metrics.js';
import { VERSION } from '../../src/version.js';
import { MemoryBackend, singleBackend } from './memory-backend.js';

export const TEST_TOKEN = 'test-forwarder-token-0123456789';

export interface TestApp {
  app: FastifyInstance;
  backend: MemoryBackend;
  activity: ActivityLog;
  agents: AgentService;
  metrics: PrometheusMetrics;
  config: Readonly<Config>;
  token: string;
  /** Every log line the app wrote, raw JSON text. */
  logs: string[];
  /** Headers with the forwarder's bearer token and a JSON content type. */
  auth: Record<string, string>;
  close: () => Promise<void>;
}

/** Builds the real app over an in-memory backend, with logs captured for assertions. */
export async function createTestApp(
  options: { yaml?: string; env?: NodeJS.ProcessEnv; now?: () => Date } = {},
): Promise<TestApp> {
  const env = { SCALER_FORWARDER_TOKEN: TEST_TOKEN, ...options.env };
  const { config } = parseConfig(options.yaml ?? '', 'test', { env });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger('debug', sink);
  const backend = new MemoryBackend(options.now);
  const activity = new ActivityLog(500, options.now);
  const metrics = new PrometheusMetrics();
  const agents = new AgentService({ backends: singleBackend(backend), activity, logger, now: options.now, metrics });
  const app = await buildApp({ config, logger, agents, metrics, version: VERSION, dockerStatus: async () => 'unused' });
  return {
    app,
    backend,
    activity,
    agents,
    metrics,
    config,
    token: config.gocd.forwarderToken,
    logs,
    auth: { authorization: `Bearer ${config.gocd.forwarderToken}`, 'content-type': 'application/json' },
    close: () => app.close(),
  };
}
