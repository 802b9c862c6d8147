import type Docker from 'dockerode';
import { ECS_LABEL_PREFIX, SCALER_LABEL_PREFIX } from './container-spec.js';
import { isForeignSlot } from './socket-slot.js';

/** Seconds a container gets between SIGTERM and SIGKILL when the service removes it (busybox `sleep` ignores TERM). */
export const DEFAULT_STOP_SECONDS = 3;

/** True for containers the attribution must never touch: this service's own, and those the ECS agent manages. */
export function isManagedContainer(labels: Record<string, string> | undefined | null): boolean {
  return Object.keys(labels ?? {}).some((k) => k.startsWith(SCALER_LABEL_PREFIX) || k.startsWith(ECS_LABEL_PREFIX));
}

/**
 * The containers a socket-mode agent's job started, bounded on both sides by the engine's own creation order:
 * created after the agent container (the engine's `since=<id>` filter; list timestamps are whole seconds, too
 * coarse) and before the first socket-slot claim of anyone else (the engine lists newest first, by creation time).
 * A later claim exists only once this agent no longer holds the engine's one socket slot (socket-slot.ts): its
 * agent has ended, so whatever follows that claim belongs to the next job, however long this cleanup takes.
 * Managed containers (this service's own, the ECS agent's) are never children. `keeper` is the container whose
 * claim is this agent's (the agent container itself on the Docker backend). The agent container must still exist;
 * otherwise the engine answers 404.
 */
export async function findSocketChildren(
  docker: Docker,
  agentContainerId: string,
  keeper = agentContainerId,
): Promise<Docker.ContainerInfo[]> {
  const newestFirst = await docker.listContainers({ all: true, filters: { since: [agentContainerId] } });
  const children: Docker.ContainerInfo[] = [];
  for (let i = newestFirst.length - 1; i >= 0; i--) {
    const c = newestFirst[i]!;
    if (isForeignSlot(c.Labels, keeper)) break;
    if (c.Id !== agentContainerId && !isManagedContainer(c.Labels)) children.push(c);
  }
  return children;
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | undefined)?.statusCode;
}

/** A container that is already gone (404) or being removed (409) needs nothing more from us. */
export function isGoneOrGoing(err: unknown): boolean {
  const status = statusOf(err);
  return status === 404 || (status === 409 && /already in progress|is being removed/i.test(String(err)));
}

/**
 * Stops (short timeout) and force-removes one container with its anonymous volumes. Already stopped (304), gone
 * (404) or being removed (409) is success: several reapers may race on the same container.
 */
export async function stopAndRemove(docker: Docker, id: string, stopSeconds = DEFAULT_STOP_SECONDS): Promise<void> {
  const container = docker.getContainer(id);
  try {
    await container.stop({ t: stopSeconds });
  } catch (err) {
    const status = statusOf(err);
    if (status !== 304 && status !== 404 && status !== 409) throw err;
  }
  try {
    await container.remove({ force: true, v: true });
  } catch (err) {
    if (!isGoneOrGoing(err)) throw err;
  }
}

/** Stops and removes these containers in parallel; throws the first failure after all have been tried. */
export async function removeAll(
  docker: Docker,
  ids: readonly string[],
  stopSeconds = DEFAULT_STOP_SECONDS,
): Promise<void> {
  const results = await Promise.allSettled(ids.map((id) => stopAndRemove(docker, id, stopSeconds)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Removes a socket-mode agent and every container its job started through the socket. Children are found first
 * (the `since` filter needs the agent container), then agent and children are stopped in parallel; a second sweep
 * catches containers the job started while it was being stopped; the agent container is removed last.
 * Returns the ids of the children removed.
 */
export async function removeSocketAgentAndChildren(
  docker: Docker,
  agentContainerId: string,
  stopSeconds = DEFAULT_STOP_SECONDS,
): Promise<string[]> {
  let children: Docker.ContainerInfo[];
  try {
    children = await findSocketChildren(docker, agentContainerId);
  } catch (err) {
    // The agent container is already gone: its children can no longer be told apart from anything else.
    if (statusOf(err) === 404) return [];
    throw err;
  }
  const stopAgent = docker
    .getContainer(agentContainerId)
    .stop({ t: stopSeconds })
    .catch((err: unknown) => {
      const status = statusOf(err);
      if (status !== 304 && status !== 404 && status !== 409) throw err;
    });
  const first = children.map((c) => c.Id);
  await Promise.all([stopAgent, removeAll(docker, first, stopSeconds)]);
  let late: string[] = [];
  try {
    late = (await findSocketChildren(docker, agentContainerId)).map((c) => c.Id).filter((id) => !first.includes(id));
    await removeAll(docker, late, stopSeconds);
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
  await stopAndRemove(docker, agentContainerId, stopSeconds);
  return [...first, ...late];
}
