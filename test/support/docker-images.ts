import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CGROUP_RW_PRELUDE } from '../../src/backends/docker/container-spec.js';
import { dockerAvailable, requireService } from './services.js';

const run = promisify(execFile);

/**
 * Test images built locally (Docker Hub is unreachable in CI): `docker import` of a tiny rootfs made from Debian's
 * busybox-static, plus host binaries from docker.io where an image needs them. Tags carry a hash of the recipe, so
 * a changed recipe builds a new image and an unchanged one is never rebuilt.
 */
export interface TestImages {
  /** busybox only: children of socket/sidecar jobs, the "unrelated" container. */
  busybox: string;
  /** The fake GoCD agent (uid 1000, like the real agent's `go` user) with the docker CLI. */
  agent: string;
  /** A Docker daemon (dockerd, containerd, runc, their libraries) for sidecar and privileged mode. */
  dind: string;
}

const BUSYBOX = '/bin/busybox';
const HOST_DOCKER_CLI = '/usr/bin/docker';
/**
 * Host binaries a Docker daemon image needs, as installed by Debian's docker.io (resolved through symlinks), with the
 * names docker:*-dind gives them in /usr/local/bin.
 */
export const DIND_BINARIES: [string, string][] = [
  ['/usr/sbin/dockerd', 'dockerd'],
  ['/usr/bin/containerd', 'containerd'],
  ['/usr/bin/containerd-shim-runc-v2', 'containerd-shim-runc-v2'],
  ['/usr/sbin/runc', 'runc'],
  ['/usr/sbin/docker-proxy', 'docker-proxy'],
  ['/usr/bin/tini-static', 'docker-init'],
  [HOST_DOCKER_CLI, 'docker'],
];

/**
 * The agent user inside the fake agent images: `go`, uid 1000, primary group root (gid 0), as GoCD's official agent
 * images create it (`useradd -u 1000 -g root … go`, gocd/gocd buildSrc/src/main/resources/gocd-docker-agent).
 */
export const AGENT_UID = 1000;
export const AGENT_GID = 0;

/**
 * The fake agent: runs `$FAKE_AGENT_JOB` (a shell script, if set) once, recording its output in /tmp/job.log and
 * its exit code in /tmp/job.exit, then idles until SIGTERM (which it honours, unlike a bare busybox `sleep`, unless
 * `FAKE_AGENT_IGNORE_TERM` is set: then only SIGKILL ends it, like an agent finishing a long job step).
 */
export const FAKE_AGENT_SCRIPT = `#!/bin/sh
if [ -n "$FAKE_AGENT_IGNORE_TERM" ]; then trap ':' TERM INT; else trap 'exit 0' TERM INT; fi
if [ -n "$FAKE_AGENT_JOB" ]; then
  sh -c "$FAKE_AGENT_JOB" >/tmp/job.log 2>&1
  echo $? >/tmp/job.exit
fi
while :; do sleep 3600 & wait $!; done
`;

/** The DinD test image's daemon config: no overlay-on-overlay (vfs), no iptables or bridge (none in the image). */
const DAEMON_JSON = `${JSON.stringify({ 'storage-driver': 'vfs', iptables: false, bridge: 'none' })}\n`;

/** Why the test images cannot be built here, or undefined when they can. */
export function testImagePrereqs(): string | undefined {
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} missing: apt-get install busybox-static`;
  const missing = [HOST_DOCKER_CLI, ...DIND_BINARIES.map(([p]) => p)].filter((p) => !existsSync(p));
  if (missing.length > 0) return `docker.io binaries missing (${missing.join(', ')}): apt-get install docker.io`;
  return undefined;
}

export function recipeHash(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 12);
}

export function fileFingerprint(path: string): string {
  const s = statSync(path);
  return `${path}:${s.size}:${s.mtimeMs}`;
}

/** A busybox rootfs: /bin/busybox, a symlink per applet, /etc/passwd and group, /tmp 1777. */
export async function busyboxRootfs(dir: string): Promise<void> {
  for (const d of [
    'bin',
    'sbin',
    'usr/bin',
    'usr/sbin',
    'usr/local/bin',
    'etc',
    'tmp',
    'root',
    'proc',
    'sys',
    'dev',
    'var/run',
  ]) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  const { stdout } = await run(BUSYBOX, ['--list']);
  for (const applet of stdout.split('\n').filter((a) => a !== '' && a !== 'busybox')) {
    symlinkSync('busybox', join(dir, 'bin', applet));
  }
  chmodSync(join(dir, 'tmp'), 0o1777);
  writeFileSync(
    join(dir, 'etc/passwd'),
    `root:x:0:0:root:/root:/bin/sh\ngo:x:${AGENT_UID}:${AGENT_GID}:go:/home/go:/bin/sh\n`,
  );
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
  // The rootfs directory comes from mkdtemp (0700); on a vfs engine the image's "." entry becomes the container's
  // root directory, which a non-root user must be able to enter.
  chmodSync(dir, 0o755);
}

/** Copies a binary (symlinks resolved) and every shared library `ldd` names, at the same paths. */
export async function copyWithLibraries(rootfs: string, binary: string, target: string): Promise<void> {
  copyFileSync(binary, target);
  chmodSync(target, 0o755);
  await copyLibraries(rootfs, binary);
}

/** Copies every shared library `ldd` names for a binary into the rootfs, at the same paths. */
export async function copyLibraries(rootfs: string, binary: string): Promise<void> {
  const { stdout } = await run('ldd', [binary]).catch(() => ({ stdout: '' }));
  for (const lib of stdout.match(/\/[^\s]+\.so[^\s]*/g) ?? []) {
    const dest = join(rootfs, lib);
    if (existsSync(dest)) continue;
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(lib, dest);
  }
}

export async function imageExists(name: string): Promise<boolean> {
  try {
    await run('docker', ['image', 'inspect', '--format', '{{.Id}}', name]);
    return true;
  } catch {
    return false;
  }
}

/** `docker import` of a rootfs directory with image config changes; concurrent builds of one tag are harmless. */
async function importRootfs(dir: string, name: string, changes: string[]): Promise<void> {
  const tarball = `${dir}.tar`;
  await run('tar', ['-C', dir, '--numeric-owner', '-cf', tarball, '.'], { maxBuffer: 1 << 20 });
  try {
    await run('docker', ['import', ...changes.flatMap((c) => ['--change', c]), tarball, name], { timeout: 300_000 });
  } finally {
    rmSync(tarball, { force: true });
  }
}

const LOCK_DIR = join(tmpdir(), 'gocd-agent-scaler-test-images.lock');
const LOCK_WAIT_MS = 300_000;
const LOCK_STALE_MS = 600_000;

/**
 * Test files run in parallel workers; one builds while the others wait (a `mkdir` lock, bounded, stale after
 * 10 minutes), so an image is imported once rather than once per worker.
 */
export async function withBuildLock<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      break;
    } catch {
      try {
        if (Date.now() - statSync(LOCK_DIR).mtimeMs > LOCK_STALE_MS) rmSync(LOCK_DIR, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      if (Date.now() > deadline) throw new Error(`waited ${LOCK_WAIT_MS} ms for ${LOCK_DIR}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

export async function build(name: string, make: (dir: string) => Promise<void>, changes: string[]): Promise<string> {
  if (await imageExists(name)) return name;
  return withBuildLock(async () => {
    if (await imageExists(name)) return name;
    const dir = mkdtempSync(join(tmpdir(), 'gas-image-'));
    try {
      await make(dir);
      await importRootfs(dir, name, changes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return name;
  });
}

/** The busybox rootfs again, as /opt/busybox.tar, which a job can `docker import` into a nested daemon. */
async function busyboxImportTarball(dir: string): Promise<void> {
  mkdirSync(join(dir, 'opt'), { recursive: true });
  const inner = join(dir, 'opt/busybox-rootfs');
  await busyboxRootfs(inner);
  await run('tar', ['-C', inner, '--numeric-owner', '-cf', join(dir, 'opt/busybox.tar'), '.']);
  rmSync(inner, { recursive: true });
}

export const PATH_ENV = 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin';

/** Builds (once) and returns the test images. Run testImagePrereqs() first. */
export async function ensureTestImages(): Promise<TestImages> {
  const bbHash = recipeHash('busybox-v2', fileFingerprint(BUSYBOX));
  const busybox = await build(`gocd-agent-scaler-test/busybox:${bbHash}`, busyboxRootfs, [PATH_ENV]);

  const agentHash = recipeHash('agent-v3', bbHash, FAKE_AGENT_SCRIPT, fileFingerprint(HOST_DOCKER_CLI));
  const agent = await build(
    `gocd-agent-scaler-test/agent:${agentHash}`,
    async (dir) => {
      await busyboxRootfs(dir);
      await copyWithLibraries(dir, HOST_DOCKER_CLI, join(dir, 'usr/local/bin/docker'));
      writeFileSync(join(dir, 'usr/local/bin/fake-agent'), FAKE_AGENT_SCRIPT, { mode: 0o755 });
      await busyboxImportTarball(dir);
      for (const d of ['godata', 'home/go']) {
        mkdirSync(join(dir, d), { recursive: true });
        chownSync(join(dir, d), AGENT_UID, AGENT_GID);
      }
    },
    [PATH_ENV, 'USER go', 'WORKDIR /godata', 'ENTRYPOINT ["/usr/local/bin/fake-agent"]'],
  );

  const dindHash = recipeHash('dind-v1', bbHash, DAEMON_JSON, ...DIND_BINARIES.map(([p]) => fileFingerprint(p)));
  const dind = await build(
    `gocd-agent-scaler-test/dind:${dindHash}`,
    async (dir) => {
      await busyboxRootfs(dir);
      for (const [path, as] of DIND_BINARIES) await copyWithLibraries(dir, path, join(dir, 'usr/local/bin', as));
      mkdirSync(join(dir, 'etc/docker'), { recursive: true });
      writeFileSync(join(dir, 'etc/docker/daemon.json'), DAEMON_JSON);
      mkdirSync(join(dir, 'var/lib/docker'), { recursive: true });
    },
    [PATH_ENV, 'CMD ["dockerd"]'],
  );
  return { busybox, agent, dind };
}

const JANITOR_DIR = join(import.meta.dirname, '..', '..', 'docker', 'janitor');
const HOST_SOCAT = '/usr/bin/socat';

/** Why the janitor image cannot be built here (it needs the host's socat too), or undefined when it can. */
export function janitorImagePrereqs(): string | undefined {
  return testImagePrereqs() ?? (existsSync(HOST_SOCAT) ? undefined : `${HOST_SOCAT} missing: apt-get install socat`);
}

/**
 * The stand-in for docker:cli under the janitor: busybox, the docker CLI and socat from the host (the janitor needs
 * sh, awk, sed, wget, timeout, socat and the CLI). Run janitorImagePrereqs() first.
 */
export async function ensureJanitorBase(): Promise<string> {
  const { busybox } = await ensureTestImages();
  const baseHash = recipeHash(
    'janitor-base-v1',
    busybox,
    fileFingerprint(HOST_DOCKER_CLI),
    fileFingerprint(HOST_SOCAT),
  );
  return build(
    `gocd-agent-scaler-test/janitor-base:${baseHash}`,
    async (dir) => {
      await busyboxRootfs(dir);
      await copyWithLibraries(dir, HOST_DOCKER_CLI, join(dir, 'usr/local/bin/docker'));
      await copyWithLibraries(dir, HOST_SOCAT, join(dir, 'usr/bin/socat'));
    },
    [PATH_ENV],
  );
}

/**
 * Builds docker/janitor/Dockerfile as shipped, on a local base (busybox, the docker CLI and socat from the host)
 * instead of docker:cli, which cannot be pulled here; the Dockerfile installs socat only where the base lacks it.
 * The tag hashes the recipe, so an edited janitor.sh is rebuilt. Run janitorImagePrereqs() first.
 */
export async function ensureJanitorImage(): Promise<string> {
  const base = await ensureJanitorBase();
  const hash = recipeHash(
    'janitor-v2',
    base,
    readFileSync(join(JANITOR_DIR, 'Dockerfile'), 'utf8'),
    readFileSync(join(JANITOR_DIR, 'janitor.sh'), 'utf8'),
  );
  const name = `gocd-agent-scaler-test/janitor:${hash}`;
  if (await imageExists(name)) return name;
  return withBuildLock(async () => {
    if (await imageExists(name)) return name;
    // The classic builder: works offline with a local base image and needs no BuildKit.
    await run('docker', ['build', '-q', '--build-arg', `BASE=${base}`, '-t', name, JANITOR_DIR], {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      timeout: 120_000,
    });
    return name;
  });
}

/**
 * The privileged-mode agent: a Docker daemon for the job and the agent itself as `go` (uid 1000, gid 0), like
 * GoCD's gocd-agent-docker-dind image (which runs as go and starts the daemon through sudo; busybox has no sudo, so
 * this entrypoint starts as root and drops to go with `su`). Without --privileged (the capability form), the
 * cgroup mounts are made writable first (CGROUP_RW_PRELUDE), as --privileged would have given them.
 */
const DIND_AGENT_START = `#!/bin/sh
dockerd --group=${AGENT_GID} >/var/log/dockerd.log 2>&1 &
i=0; until docker info >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 300 ] || break; sleep 0.2; done
HOME=/home/go exec su -p -s /bin/sh go -c 'exec /usr/local/bin/fake-agent'
`;

/** Builds (once) the privileged-mode agent image (dind + fake agent). Run testImagePrereqs() first. */
export async function ensureDindAgentImage(): Promise<string> {
  const { dind } = await ensureTestImages();
  const hash = recipeHash('dind-agent-v1', dind, FAKE_AGENT_SCRIPT, DIND_AGENT_START, CGROUP_RW_PRELUDE);
  return build(
    `gocd-agent-scaler-test/dind-agent:${hash}`,
    async (dir) => {
      await busyboxRootfs(dir);
      for (const [path, as] of DIND_BINARIES) await copyWithLibraries(dir, path, join(dir, 'usr/local/bin', as));
      mkdirSync(join(dir, 'etc/docker'), { recursive: true });
      writeFileSync(join(dir, 'etc/docker/daemon.json'), DAEMON_JSON);
      for (const d of ['var/lib/docker', 'var/log']) mkdirSync(join(dir, d), { recursive: true });
      writeFileSync(join(dir, 'usr/local/bin/fake-agent'), FAKE_AGENT_SCRIPT, { mode: 0o755 });
      writeFileSync(join(dir, 'usr/local/bin/cgroup-rw'), `#!/bin/sh\n${CGROUP_RW_PRELUDE}\n`, { mode: 0o755 });
      writeFileSync(join(dir, 'usr/local/bin/dind-agent'), DIND_AGENT_START, { mode: 0o755 });
      await busyboxImportTarball(dir);
      for (const d of ['godata', 'home/go']) {
        mkdirSync(join(dir, d), { recursive: true });
        chownSync(join(dir, d), AGENT_UID, AGENT_GID);
      }
    },
    [PATH_ENV, 'WORKDIR /godata', 'ENTRYPOINT ["/usr/local/bin/cgroup-rw", "/usr/local/bin/dind-agent"]'],
  );
}

/**
 * Whether a suite that needs the Docker engine and these test images (and, with `janitor`, the janitor image) runs:
 * true, or false after printing why (under CI=true a missing prerequisite throws instead: see requireService).
 */
export function dockerTestImagesReady(options: { janitor?: boolean } = {}): boolean {
  const missing = options.janitor ? janitorImagePrereqs() : testImagePrereqs();
  return (
    requireService('Docker engine', dockerAvailable(), 'install docker.io and start dockerd (see .ci/run)') &&
    requireService('the test images’ ingredients', missing === undefined, String(missing))
  );
}
