import { ConfigError, loadConfig } from '../config/config-loader.js';
import { buildApp } from '../http/app.js';
import { createLogger } from '../logger.js';
import { VERSION } from '../version.js';
import { createServices } from './composition.js';

/** A start-up failure the operator can fix, said in one line (no stack): the CLI prints it and exits. */
export class StartError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** What a failed listen means, by Node's error code (libuv's names). */
const LISTEN_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is already in use (another process listens there)',
  EACCES: 'not allowed (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'no interface of this machine has that address',
};

/**
 * The line that hands the operator a generated forwarder token: one JSON line on stderr (pino's shape, warn level),
 * so a log pipeline reading stdout and stderr as JSON lines still parses it, and the token never enters the
 * service's log (stdout), whose secrets are redacted.
 */
export function generatedTokenLine(token: string, now = new Date()): string {
  return `${JSON.stringify({
    level: 40,
    time: now.getTime(),
    service: 'gocd-agent-scaler',
    generatedForwarderToken: token,
    msg: 'No forwarder token configured; this process generated one (set SCALER_FORWARDER_TOKEN to keep it across restarts)',
  })}\n`;
}

/** Loads the config, builds the app and listens; SIGTERM/SIGINT close it gracefully. */
export async function startServer(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let loaded: Awaited<ReturnType<typeof loadConfig>>;
  try {
    loaded = await loadConfig({ env });
  } catch (e) {
    if (e instanceof ConfigError) throw new StartError(e.message, 2);
    throw e;
  }
  const { config, generatedForwarderToken, source } = loaded;
  const logger = createLogger(config.log.level);
  if (generatedForwarderToken) {
    // Printed once, on purpose: the operator needs it for the forwarder. Set SCALER_FORWARDER_TOKEN to keep one.
    process.stderr.write(generatedTokenLine(config.gocd.forwarderToken));
  }
  const services = await createServices(config, logger);
  const app = buildApp({ config, logger, version: VERSION, ...services });
  const docker = await services.dockerStatus();
  if (docker.startsWith('unavailable')) {
    logger.warn(`Docker backend ${docker}; docker cluster profiles will fail until an engine is reachable`);
  }
  const { host, port } = config.server;
  try {
    await app.listen({ host, port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const meaning = code ? LISTEN_ERRORS[code] : undefined;
    if (meaning === undefined) throw e;
    await services.close();
    throw new StartError(
      `cannot listen on ${host}:${port}: ${meaning} (${code}); choose another with PORT=<port> (or HOST=<address>), or server.port in the config`,
      1,
    );
  }
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
