import { statSync } from 'node:fs';
import type Docker from 'dockerode';
import { clip } from '../../text.js';

/** Where a Docker engine answers: a local unix socket or a plain-HTTP TCP address. */
export type EngineAddress =
  | { kind: 'unix'; socketPath: string; url: string }
  | { kind: 'tcp'; host: string; port: number; url: string };

/** The engine's socket when neither the cluster profile nor `DOCKER_HOST` names one. */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * Parses a cluster profile's `docker_host` (`unix:///path` or `tcp://host:port`); unset means `$DOCKER_HOST`,
 * else the local socket. Throws on anything else, so a typo never silently talks to the wrong engine.
 */
export function engineAddress(dockerHost?: string, env: NodeJS.ProcessEnv = process.env): EngineAddress {
  const value = (dockerHost ?? env.DOCKER_HOST ?? '').trim() || `unix://${DEFAULT_DOCKER_SOCKET}`;
  if (value.startsWith('unix://')) {
    const socketPath = value.slice('unix://'.length) || DEFAULT_DOCKER_SOCKET;
    return { kind: 'unix', socketPath, url: `unix://${socketPath}` };
  }
  const tcp = /^(?:tcp|http):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d{1,5}))?\/?$/.exec(value);
  if (tcp?.[1]) {
    const port = Number(tcp[2] ?? 2375);
    return { kind: 'tcp', host: tcp[1].replace(/^\[|\]$/g, ''), port, url: `tcp://${tcp[1]}:${port}` };
  }
  throw new Error(`docker_host must be unix:///path/to/docker.sock or tcp://host:port, got '${clip(value, 100)}'`);
}

/**
 * Idle timeout of one engine request (socket inactivity, not total time): image pulls stay open as long as progress
 * arrives, while an engine that stops answering is reported unavailable instead of hanging a server-ping.
 */
const REQUEST_IDLE_TIMEOUT_MS = 60_000;

/**
 * Builds a dockerode client for one engine. dockerode is imported here, lazily, and nowhere else at runtime, so
 * the Lambda bundle (which never uses the Docker backend) does not contain it.
 */
export async function createDockerClient(address: EngineAddress): Promise<Docker> {
  const { default: DockerClient } = await import('dockerode');
  // docker-modem starts from $DOCKER_HOST (and $DOCKER_TLS_VERIFY, $DOCKER_CERT_PATH) and merges these options over
  // it; a `host` taken from a TCP $DOCKER_HOST would win over our socketPath (docker-modem lib/modem.js, Modem: "if
  // (!this.host) this.socketPath = …"). Every field the environment could set is given here, so the cluster profile's
  // engine is the one used whatever the environment says.
  const explicit = {
    timeout: REQUEST_IDLE_TIMEOUT_MS,
    protocol: 'http' as const,
    pathPrefix: '/',
    ca: undefined,
    cert: undefined,
    key: undefined,
  };
  return address.kind === 'unix'
    ? new DockerClient({ ...explicit, socketPath: address.socketPath, host: undefined, port: undefined })
    : new DockerClient({ ...explicit, host: address.host, port: address.port });
}

/**
 * The group id owning a local engine socket (`root:docker 0660` on Debian), which socket-mode agents are given so
 * a non-root agent user can use it; undefined when the engine is remote or the socket cannot be read here.
 */
export function socketGroupId(address: EngineAddress): number | undefined {
  if (address.kind !== 'unix') return undefined;
  try {
    return statSync(address.socketPath).gid;
  } catch {
    return undefined;
  }
}

/** `available` or `unavailable: <reason>` for the engine at `dockerHost` (default the local one). */
export async function dockerEngineStatus(dockerHost?: string): Promise<string> {
  try {
    const docker = await createDockerClient(engineAddress(dockerHost));
    await docker.ping();
    return 'available';
  } catch (err) {
    return `unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
}
