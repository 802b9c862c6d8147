import type Docker from 'dockerode';
import { LABEL } from './container-spec.js';

/**
 * The name of the one socket-mode slot per Docker engine. A container name is unique per engine and the engine
 * creates a named container atomically (a second create answers 409), so whoever creates this container holds the
 * engine's socket slot. The ECS janitor (docker/janitor/janitor.sh) claims the same name, so Docker-backend and ECS
 * socket agents sharing an engine exclude each other too.
 */
export const SOCKET_SLOT_NAME = 'gocd-agent-scaler-socket-slot';

/** Labels of the slot container; its role label is `socket-slot`. */
export const SLOT_LABEL = {
  /** The container whose life keeps the claim: the agent container here, the janitor container on ECS. */
  keeper: 'gocd-agent-scaler.slot-keeper',
  /** Who holds the slot, for people and logs: an agent id here, a task ARN on ECS. */
  holder: 'gocd-agent-scaler.slot-holder',
} as const;

export const SLOT_ROLE = 'socket-slot';

/** A claim as read from the engine. */
export interface SocketSlot {
  /** The slot container's id: releases and stale-claim removals name it, never the (reusable) name. */
  id: string;
  keeper: string;
  holder: string;
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | undefined)?.statusCode;
}

/** True for a container listing entry that is a slot claim kept by someone other than `keeper`. */
export function isForeignSlot(labels: Record<string, string> | undefined | null, keeper: string): boolean {
  return labels?.[LABEL.role] === SLOT_ROLE && labels[SLOT_LABEL.keeper] !== keeper;
}

/** The engine's current claim, or undefined when nobody holds the slot. */
export async function readSocketSlot(docker: Docker): Promise<SocketSlot | undefined> {
  try {
    const info = await docker.getContainer(SOCKET_SLOT_NAME).inspect();
    const labels = info.Config.Labels ?? {};
    return { id: info.Id, keeper: labels[SLOT_LABEL.keeper] ?? '', holder: labels[SLOT_LABEL.holder] ?? '' };
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

export type ClaimResult =
  | { kind: 'claimed'; slot: SocketSlot }
  /** Someone else's claim (undefined: it vanished between our create and our look; try again). */
  | { kind: 'held'; slot: SocketSlot | undefined };

/**
 * Claims the engine's socket slot for `keeper` by creating the slot container (never started: it holds nothing but
 * its name). `image` must be present on the engine; nothing is pulled.
 */
export async function claimSocketSlot(
  docker: Docker,
  claim: { keeper: string; holder: string; image: string },
): Promise<ClaimResult> {
  try {
    const created = await docker.createContainer({
      name: SOCKET_SLOT_NAME,
      Image: claim.image,
      Entrypoint: ['true'],
      Labels: { [LABEL.role]: SLOT_ROLE, [SLOT_LABEL.keeper]: claim.keeper, [SLOT_LABEL.holder]: claim.holder },
      HostConfig: { NetworkMode: 'none' },
    });
    return { kind: 'claimed', slot: { id: created.id, keeper: claim.keeper, holder: claim.holder } };
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
    return { kind: 'held', slot: await readSocketSlot(docker) };
  }
}

/** Removes this exact claim (by id, so a newer claim under the same name is never touched). */
export async function removeSlotClaim(docker: Docker, slotId: string): Promise<void> {
  try {
    await docker.getContainer(slotId).remove({ force: true });
  } catch (err) {
    if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
  }
}

/** Releases the slot if `keeper` holds it; a claim of anybody else is left alone. */
export async function releaseSocketSlot(docker: Docker, keeper: string): Promise<boolean> {
  const slot = await readSocketSlot(docker);
  if (!slot || slot.keeper !== keeper) return false;
  await removeSlotClaim(docker, slot.id);
  return true;
}
