import { loadConfig } from '../config/config-loader.js';
import { buildApp } from '../http/app.js';
import { createLogger } from '../logger.js';
import { VERSION } from '../version.js';
import { createServices } from './composition.js';

/** Loads the config, builds the app and listens; SIGTERM/SIGINT close it gracefully. */
export async function startServer(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { config, generatedForwarderToken, source } = await loadConfig({ env });
  const logger = createLogger(config.log.level);
  if (generatedForwarderToken) {
    // Printed once, on purpose: the operator needs it for the forwarder. Set SCALER_FORWARDER_TOKEN to keep one.
    process.stderr.write(
      `No forwarder token configured; this process generated one (set SCALER_FORWARDER_TOKEN to keep it across restarts):\n  ${config.gocd.forwarderToken}\n`,
    );
  }
  const services = await createServices(config, logger);
  const app = buildApp({ config, logger, version: VERSION, ...services });
  const docker = await services.dockerStatus();
  if (docker.startsWith('unavailable')) {
    logger.warn(`Docker backend ${docker}; docker cluster profiles will fail until an engine is reachable`);
  }
  await app.listen({ host: config.server.host, port: config.server.port });
  // The backstop poll runs in a listening process (a Lambda polls from a schedule instead).
  services.start();
  logger.info({ config: source, version: VERSION, docker }, 'gocd-agent-scaler listening');
  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await app.close();
    // Retries stop; unfinished triggers release their claims (logged), so a redelivery or the poll redoes them.
    await services.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
