import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { CGROUP_RW_PRELUDE } from '../../src/backends/docker/container-spec.js';
import { localDocker, pipeImage, RUN_LABEL, waitFor } from './docker-engine.js';
import { ensureTestImages } from './docker-images.js';

/**
 * A Docker engine of a test file's own: a `dockerd` in a container on the shared engine, with its own data-root
 * (a volume removed with it), exec-root, pidfile and socket (in a host directory bind-mounted at the same path, so a
 * socket agent inside it can mount that socket by its host path). Socket-mode tests run here, because socket mode
 * attributes "containers created since the agent" engine-wide: on the shared engine that would include other
 * people's containers, and other suites' socket agents would take the engine's socket slot.
 *
 * A nested dockerd needs explicit capabilities, unconfined seccomp and AppArmor, writable cgroups (the same prelude
 * the Docker backend uses) and the vfs storage driver (the test dind image's daemon.json); `--privileged` does not
 * start on this machine. Its daemon has no bridge and no iptables: its containers use `none` or `host` networking
 * (host = this container's network namespace, on the shared engine's default bridge).
 */
export interface PrivateEngine {
  /** The socket's path on this host (and, identically, inside the engine). */
  socketPath: string;
  /** `unix://<socketPath>`: a cluster profile's `docker_host`. */
  dockerHost: string;
  docker: Docker;
  /** The socket's group: a gid no image knows, like a host's `docker` group. */
  socketGid: number;
  /** The engine container on the shared engine. */
  containerId: string;
  /** Copies images from the shared engine into this one (`docker save | docker load`). */
  load(...images: string[]): Promise<void>;
  /** Removes the engine with everything in it. */
  stop(): Promise<void>;
}

/** A gid that exists in no test image, as a host's `docker` group would be unknown to an agent image. */
export const PRIVATE_SOCKET_GID = 2999;

/** Starts a private engine for the test run `run` (labelled with it, so cleanupRun removes it too). */
export async function startPrivateEngine(run: string): Promise<PrivateEngine> {
  const shared = localDocker();
  const { dind } = await ensureTestImages();
  const dir = mkdtempSync(join(tmpdir(), `gas-engine-${run}-`));
  chmodSync(dir, 0o755);
  const socketPath = join(dir, 'docker.sock');
  const container = await shared.createContainer({
    name: `${run}-engine`,
    Image: dind,
    Labels: { [RUN_LABEL]: run },
    Entrypoint: ['/bin/sh', '-c', CGROUP_RW_PRELUDE, 'gas-private-engine'],
    Cmd: [
      'dockerd',
      `--host=unix://${socketPath}`,
      // The engine's own socket at the standard path too: ECS task definitions mount /var/run/docker.sock.
      '--host=unix:///var/run/docker.sock',
      `--group=${PRIVATE_SOCKET_GID}`,
      '--data-root=/var/lib/docker',
      '--exec-root=/var/run/gas-private-engine',
      '--pidfile=/var/run/gas-private-engine.pid',
    ],
    HostConfig: {
      // SYS_PTRACE: `docker exec` into a non-root container (runc opens its /proc/<pid>/ns files).
      CapAdd: ['SYS_ADMIN', 'NET_ADMIN', 'SYS_PTRACE'],
      SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
      Mounts: [
        { Type: 'bind', Source: dir, Target: dir },
        // Anonymous: removed with the container (`remove({ v: true })`).
        { Type: 'volume', Source: '', Target: '/var/lib/docker' },
      ],
    },
  });
  const stop = async () => {
    await container.remove({ force: true, v: true }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await container.start();
    const docker = new Docker({ socketPath });
    await waitFor('the private engine to answer', async () => (await docker.ping()) !== undefined, 60_000, 200);
    const dockerHost = `unix://${socketPath}`;
    return {
      socketPath,
      dockerHost,
      docker,
      socketGid: PRIVATE_SOCKET_GID,
      containerId: container.id,
      load: async (...images) => {
        for (const image of images) await pipeImage(image, ['-H', dockerHost, 'load', '-q'], dockerHost);
      },
      stop,
    };
  } catch (err) {
    const logs = await container.logs({ stdout: true, stderr: true, tail: 30 }).catch(() => '');
    await stop();
    throw new Error(`private engine did not start: ${(err as Error).message}\n${String(logs)}`);
  }
}

/** Removes every container and volume in a private engine (all of them are the test file's own). */
export async function removeEverything(docker: Docker): Promise<void> {
  const all = await docker.listContainers({ all: true });
  await Promise.all(
    all.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  const { Volumes } = await docker.listVolumes();
  await Promise.all(
    (Volumes ?? []).map((v) =>
      docker
        .getVolume(v.Name)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}
