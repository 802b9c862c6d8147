import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { LABEL } from '../../src/backends/docker/container-spec.js';

const run = promisify(execFile);

/** Label put on every unlabelled container a test starts (children, bystanders), so cleanup finds it. */
export const RUN_LABEL = 'gocd-agent-scaler-test.run';

/** A fresh id for one test file's run: cluster ids and the run label derive from it. */
export function runId(prefix: string): string {
  return `${prefix}${randomBytes(3).toString('hex')}`;
}

/** A dockerode client for the local engine (tests talk to the engine directly to check what the backend did). */
export function localDocker(): Docker {
  return new Docker();
}

/** `docker <args>` with the CLI; resolves stdout (trimmed), rejects with stderr. */
export async function dockerCli(args: string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await run('docker', args, { timeout: timeoutMs, maxBuffer: 16 << 20 });
  return stdout.trim();
}

/** A container's log, stdout and stderr together. */
export async function containerLogs(id: string): Promise<string> {
  const { stdout, stderr } = await run('docker', ['logs', id], { timeout: 30_000, maxBuffer: 16 << 20 });
  return `${stdout}${stderr}`.trim();
}

/** Pipes `docker save <image>` into `docker <loadArgs>` (a `docker load` somewhere else); `where` names it in errors. */
export function pipeImage(image: string, loadArgs: string[], where: string, timeoutMs = 300_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const save = spawn('docker', ['save', image], { stdio: ['ignore', 'pipe', 'inherit'] });
    const load = spawn('docker', loadArgs, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    load.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    save.stdout.pipe(load.stdin);
    const timer = setTimeout(() => {
      save.kill();
      load.kill();
      reject(new Error(`loading ${image} into ${where} timed out`));
    }, timeoutMs);
    load.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`docker load of ${image} into ${where} exited ${code}: ${stderr}`));
    });
  });
}

/** Pipes `docker save <image>` into `docker exec -i <container> docker load` (an image into a nested daemon). */
export function loadImageInto(container: string, image: string, timeoutMs = 120_000): Promise<void> {
  return pipeImage(image, ['exec', '-i', container, 'docker', 'load'], container, timeoutMs);
}

/** Polls `probe` until it returns a value other than undefined/false, at most `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

/** Container ids (full) carrying this label (`key=value`), in any state. */
export async function containersWithLabel(docker: Docker, label: string): Promise<string[]> {
  return (await docker.listContainers({ all: true, filters: { label: [label] } })).map((c) => c.Id);
}

/** True when the engine knows this container (by id or name). */
export async function containerExists(docker: Docker, idOrName: string): Promise<boolean> {
  try {
    await docker.getContainer(idOrName).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Removes everything a test run left: containers and volumes of these cluster ids, and run-labelled containers. */
export async function cleanupRun(docker: Docker, run: string, clusterIds: readonly string[]): Promise<void> {
  const ids = new Set<string>(await containersWithLabel(docker, `${RUN_LABEL}=${run}`));
  for (const c of clusterIds)
    for (const id of await containersWithLabel(docker, `${LABEL.clusterId}=${c}`)) ids.add(id);
  await Promise.all(
    [...ids].map((id) =>
      docker
        .getContainer(id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  for (const c of clusterIds) {
    const { Volumes } = await docker.listVolumes({ filters: { label: [`${LABEL.clusterId}=${c}`] } });
    await Promise.all(
      (Volumes ?? []).map((v) =>
        docker
          .getVolume(v.Name)
          .remove()
          .catch(() => undefined),
      ),
    );
  }
}

/** Host processes whose whole command line is `commandLine` (containers' processes are in the host's table). */
export function hostProcessesRunning(commandLine: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmd === commandLine) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** A Docker-backend cluster profile's raw properties (GoCD's strings) for a test cluster id. */
export function dockerClusterProps(clusterId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    go_server_url: 'https://gocd.example.com/go',
    backend: 'docker',
    cluster_id: clusterId,
    max_agents: '60',
    ...extra,
  };
}

/** Output (stdout and stderr) and exit code of a command run in a container, without the CLI. */
export async function execIn(
  docker: Docker,
  containerId: string,
  cmd: string[],
): Promise<{ exitCode: number; output: string }> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, output: demux(Buffer.concat(chunks)) };
}

/** Strips the engine's 8-byte frame headers from a non-TTY attach stream. */
function demux(buf: Buffer): string {
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return out;
}

/** Waits for the fake agent's job script to write its exit code (/tmp/job.exit); fails with its log unless 0. */
export async function waitForJobScript(docker: Docker, agentRef: string, timeoutMs = 60_000): Promise<void> {
  const code = await waitFor(
    'the job script to finish',
    async () => {
      const r = await execIn(docker, agentRef, ['cat', '/tmp/job.exit']);
      return r.exitCode === 0 ? r.output.trim() : undefined;
    },
    timeoutMs,
    250,
  );
  if (code !== '0') {
    const log = (await execIn(docker, agentRef, ['cat', '/tmp/job.log'])).output;
    throw new Error(`job script failed (${code}): ${log}`);
  }
}

/**
 * The address of the shared engine's default bridge on this host (docker0's IPv4, e.g. 172.17.0.1): containers on
 * that bridge, and those sharing a private engine's network namespace, reach a loopback-only test server there.
 * Read with iproute2, not Node's networkInterfaces(): libuv leaves out an interface that is not RUNNING, which docker0
 * is not while no container is attached to it (NO-CARRIER), so that answer would depend on what else runs.
 */
export async function bridgeGatewayAddress(docker: Docker = localDocker()): Promise<string> {
  const bridge = await docker.getNetwork('bridge').inspect();
  const ifname =
    (bridge.Options as Record<string, string> | undefined)?.['com.docker.network.bridge.name'] ?? 'docker0';
  const { stdout } = await run('ip', ['-4', '-o', 'addr', 'show', 'dev', ifname]);
  const address = /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(stdout)?.[1];
  if (!address) throw new Error(`no IPv4 address on ${ifname}, the shared engine's default bridge`);
  return address;
}
