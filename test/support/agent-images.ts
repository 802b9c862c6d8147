import { execFile } from 'node:child_process';
import {
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AGENT_UID,
  build,
  busyboxRootfs,
  copyLibraries,
  copyWithLibraries,
  DIND_BINARIES,
  fileFingerprint,
  imageExists,
  PATH_ENV,
  recipeHash,
  withBuildLock,
} from './docker-images.js';

const run = promisify(execFile);

/**
 * The shipped agent images (docker/agent/*.Dockerfile) built as a user would build them, but FROM local stand-ins:
 * the official GoCD agent images and Docker Hub's docker:*-cli / docker:*-dind cannot be pulled here.
 *
 * - The GoCD agent base stand-in follows gocd/gocd buildSrc/src/main/resources/gocd-docker-agent/
 *   (Dockerfile.agent.ftl, docker-entrypoint.sh): user `go` uid 1000 with primary group root (gid 0; Distro.groovy
 *   `useradd -l -u ${UID} -g root … go`), `USER go`, ENTRYPOINT /docker-entrypoint.sh, which writes the GO_EA_*
 *   variables into /go/config/autoregister.properties, unsets them, sets GO_SERVER_URL, runs /docker-entrypoint.d/*
 *   and execs the agent under `tini -g`. Like Debian, it has util-linux's setpriv. Its "agent" is a script.
 * - The docker:*-cli and docker:*-dind stand-ins hold the engine binaries at the paths the real images use
 *   (/usr/local/bin, /usr/local/libexec/docker/cli-plugins). The real ones are static builds; the host's Debian
 *   builds used here are dynamically linked, so the base stand-in carries their shared libraries (and iptables with
 *   its extensions, which the dind image would otherwise install with the base's package manager).
 */
export interface AgentImages {
  /** Stand-in for gocd/gocd-agent-debian-12. */
  gocdBase: string;
  /** Built from docker/agent/docker-cli.Dockerfile. */
  dockerCli: string;
  /** Built from docker/agent/dind.Dockerfile. */
  dind: string;
  /** Stand-in for docker:*-cli (the docker-cli image's DOCKER_CLI_IMAGE). */
  dockerCliSource: string;
  /** Stand-in for docker:*-dind (the dind image's DOCKER_IMAGE). */
  dockerSource: string;
}

const AGENT_DIR = join(import.meta.dirname, '..', '..', 'docker', 'agent');

/** Engine binaries of docker:*-dind, from the host's docker.io (source path → name in /usr/local/bin). */
const ENGINE_BINARIES = DIND_BINARIES;
const SETPRIV = '/usr/bin/setpriv';
const TINI = '/usr/bin/tini-static';
const XTABLES = '/usr/sbin/xtables-nft-multi';
const XTABLES_EXTENSIONS = '/usr/lib/x86_64-linux-gnu/xtables';
const IPTABLES_NAMES = [
  'iptables',
  'iptables-save',
  'iptables-restore',
  'ip6tables',
  'ip6tables-save',
  'ip6tables-restore',
];

/** Why the stand-ins cannot be built here, or undefined. */
export function agentImagePrereqs(): string | undefined {
  const needed = [SETPRIV, TINI, XTABLES, XTABLES_EXTENSIONS, ...ENGINE_BINARIES.map(([p]) => p)];
  const missing = needed.filter((p) => !existsSync(p));
  return missing.length > 0
    ? `host files missing (${missing.join(', ')}): apt-get install docker.io util-linux iptables tini`
    : undefined;
}

/** Stand-in for GoCD's /docker-entrypoint.sh (what it does with an elastic agent's variables, in POSIX sh). */
export const STAND_IN_ENTRYPOINT = `#!/bin/sh
set -e
for d in config logs pipelines; do
  [ -e "/godata/$d" ] || mkdir "/godata/$d"
  [ -e "/go/$d" ] || ln -s "/godata/$d" "/go/$d"
done
if [ -n "\${GO_EA_SERVER_URL:-}" ]; then
  {
    echo "agent.auto.register.key=\${GO_EA_AUTO_REGISTER_KEY:-}"
    echo "agent.auto.register.environments=\${GO_EA_AUTO_REGISTER_ENVIRONMENT:-}"
    echo "agent.auto.register.elasticAgent.agentId=\${GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID:-}"
    echo "agent.auto.register.elasticAgent.pluginId=\${GO_EA_AUTO_REGISTER_ELASTIC_PLUGIN_ID:-}"
  } >> /go/config/autoregister.properties
  export GO_SERVER_URL="$GO_EA_SERVER_URL"
  unset GO_EA_AUTO_REGISTER_KEY GO_EA_AUTO_REGISTER_ENVIRONMENT GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID GO_EA_AUTO_REGISTER_ELASTIC_PLUGIN_ID GO_EA_SERVER_URL
fi
for f in /docker-entrypoint.d/*; do [ -f "$f" ] && [ -x "$f" ] && "$f"; done
[ $# -gt 0 ] || set -- /go/bin/go-agent console
exec /usr/local/sbin/tini -g -- "$@"
`;

/**
 * Stand-in for the agent process: records who it runs as and what it was given (/tmp/agent.started), runs
 * $FAKE_AGENT_JOB once (output /tmp/job.log, exit code /tmp/job.exit), then idles until SIGTERM.
 */
export const STAND_IN_AGENT = `#!/bin/sh
trap 'echo "go-agent: stopped" >&2; exit 0' TERM INT
{
  echo "uid=$(id -u)"
  echo "gid=$(id -g)"
  echo "groups=$(id -G)"
  echo "GO_SERVER_URL=\${GO_SERVER_URL:-}"
  echo "GO_EA_variables=$(env | grep -c '^GO_EA_' || true)"
  echo "home=$HOME"
} >/tmp/agent.started
echo "go-agent: started for \${GO_SERVER_URL:-?}" >&2
if [ -n "\${FAKE_AGENT_JOB:-}" ]; then
  sh -c "$FAKE_AGENT_JOB" >/tmp/job.log 2>&1
  echo $? >/tmp/job.exit
fi
while :; do sleep 3600 & wait $!; done
`;

/** Writes the GoCD agent base stand-in's rootfs into `dir`. */
async function gocdBaseRootfs(dir: string): Promise<void> {
  await busyboxRootfs(dir);
  // GoCD's agent user: uid 1000, primary group root.
  writeFileSync(join(dir, 'etc/passwd'), `root:x:0:0:root:/root:/bin/sh\ngo:x:${AGENT_UID}:0:go:/home/go:/bin/sh\n`);
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
  for (const d of ['go/bin', 'godata', 'home/go', 'docker-entrypoint.d', 'usr/local/sbin', 'opt']) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  for (const d of ['go', 'go/bin', 'godata', 'home/go', 'docker-entrypoint.d']) chownSync(join(dir, d), AGENT_UID, 0);
  writeFileSync(join(dir, 'docker-entrypoint.sh'), STAND_IN_ENTRYPOINT, { mode: 0o755 });
  writeFileSync(join(dir, 'go/bin/go-agent'), STAND_IN_AGENT, { mode: 0o755 });
  copyFileSync(TINI, join(dir, 'usr/local/sbin/tini'));
  // util-linux's setpriv, as in Debian's essential set.
  rmSync(join(dir, 'bin/setpriv'), { force: true });
  await copyWithLibraries(dir, SETPRIV, join(dir, 'usr/bin/setpriv'));
  // iptables (nft backend) with its extensions, as `apt-get install iptables` would leave it.
  mkdirSync(join(dir, 'usr/sbin'), { recursive: true });
  await copyWithLibraries(dir, XTABLES, join(dir, 'usr/sbin/xtables-nft-multi'));
  for (const name of IPTABLES_NAMES) {
    rmSync(join(dir, 'bin', name), { force: true });
    symlinkSync('xtables-nft-multi', join(dir, 'usr/sbin', name));
  }
  mkdirSync(join(dir, XTABLES_EXTENSIONS), { recursive: true });
  for (const f of readdirSync(XTABLES_EXTENSIONS))
    copyFileSync(join(XTABLES_EXTENSIONS, f), join(dir, XTABLES_EXTENSIONS, f));
  // The libraries of the host's dynamically linked engine binaries (see AgentImages).
  for (const [path] of ENGINE_BINARIES) await copyLibraries(dir, path);
  // A busybox rootfs tarball a job can `docker import` into a daemon (no registry here).
  const inner = join(dir, 'opt/busybox-rootfs');
  await busyboxRootfs(inner);
  await run('tar', ['-C', inner, '--numeric-owner', '-cf', join(dir, 'opt/busybox.tar'), '.']);
  rmSync(inner, { recursive: true });
}

/** A "FROM scratch" image holding the engine binaries at the docker:*-cli / docker:*-dind paths. */
async function engineRootfs(dir: string, names: readonly string[]): Promise<void> {
  mkdirSync(join(dir, 'usr/local/bin'), { recursive: true });
  mkdirSync(join(dir, 'usr/local/libexec/docker/cli-plugins'), { recursive: true });
  for (const [path, as] of ENGINE_BINARIES) {
    if (names.includes(as)) copyFileSync(path, join(dir, 'usr/local/bin', as));
  }
}

function hostFingerprints(): string[] {
  return [SETPRIV, TINI, XTABLES, ...ENGINE_BINARIES.map(([p]) => p)].map(fileFingerprint);
}

/** `docker build -f docker/agent/<file>` with build args, tagged by a hash of everything that goes in. */
async function buildShipped(file: string, repo: string, args: Record<string, string>): Promise<string> {
  const inputs = [file, ...readdirSync(join(AGENT_DIR, 'bin')).map((f) => `bin/${f}`)].sort();
  const hash = recipeHash(
    repo,
    JSON.stringify(args),
    ...inputs.map((f) => `${f}\n${readFileSync(join(AGENT_DIR, f), 'utf8')}`),
  );
  const name = `gocd-agent-scaler-test/${repo}:${hash}`;
  if (await imageExists(name)) return name;
  return withBuildLock(async () => {
    if (await imageExists(name)) return name;
    const buildArgs = Object.entries(args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
    // The classic builder: works offline with local base images and needs no BuildKit.
    await run('docker', ['build', '-q', '-f', join(AGENT_DIR, file), ...buildArgs, '-t', name, AGENT_DIR], {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      timeout: 300_000,
      maxBuffer: 16 << 20,
    });
    return name;
  });
}

/** Builds (once) the stand-ins and the two shipped agent images on them. */
export async function ensureAgentImages(): Promise<AgentImages> {
  const fingerprints = hostFingerprints();
  const baseHash = recipeHash('gocd-base-v1', STAND_IN_ENTRYPOINT, STAND_IN_AGENT, ...fingerprints);
  const gocdBase = await build(`gocd-agent-scaler-test/gocd-agent-base:${baseHash}`, gocdBaseRootfs, [
    PATH_ENV,
    'USER go',
    'WORKDIR /go',
    'ENTRYPOINT ["/docker-entrypoint.sh"]',
  ]);
  const cliHash = recipeHash('docker-cli-v1', ...fingerprints);
  const cliSource = await build(
    `gocd-agent-scaler-test/docker-cli-source:${cliHash}`,
    (dir) => engineRootfs(dir, ['docker']),
    [],
  );
  const dockerSource = await build(
    `gocd-agent-scaler-test/docker-dind-source:${cliHash}`,
    (dir) =>
      engineRootfs(
        dir,
        ENGINE_BINARIES.map(([, as]) => as),
      ),
    [],
  );
  const dockerCli = await buildShipped('docker-cli.Dockerfile', 'agent-docker-cli', {
    BASE: gocdBase,
    DOCKER_CLI_IMAGE: cliSource,
  });
  const dind = await buildShipped('dind.Dockerfile', 'agent-dind', { BASE: gocdBase, DOCKER_IMAGE: dockerSource });
  return { gocdBase, dockerCli, dind, dockerCliSource: cliSource, dockerSource };
}
