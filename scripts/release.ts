// `npm run release -- [options]`: builds every artefact of one release with one version — the forwarder jar, the
// Lambda bundle (zip), the service image, the two agent images and the janitor image — checks that each carries
// that version, and writes dist/release/<version>/manifest.json. `--dry-run` changes and builds nothing: it prints
// the version stamps and the build plan. See docs/releases.md.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleLambda, ROOT } from './bundle.js';
import { currentVersion, releaseVersionProblem, stampVersion } from './release-version.js';

/** Every artefact of a release, in build order. */
export const ARTEFACTS = ['jar', 'lambda', 'service-image', 'agent-dind', 'agent-docker-cli', 'janitor-image'] as const;
export type ArtefactId = (typeof ARTEFACTS)[number];

/** The GoCD agent image the agent images extend by default (the GoCD version the compatibility table names). */
export const DEFAULT_GOCD_BASE = 'gocd/gocd-agent-debian-12:v25.4.0';

export interface ReleaseOptions {
  /** The repository to release (default: this one); tests point it at a copy. */
  root?: string;
  version?: string;
  dryRun: boolean;
  out?: string;
  registry?: string;
  push: boolean;
  skip: ArtefactId[];
  gocdBase: string;
  dockerImage?: string;
  dockerCliImage?: string;
  janitorBase?: string;
  nodeImage?: string;
}

/** One planned build step. */
interface Step {
  id: ArtefactId;
  /** What it produces: a file path relative to the repository, or an image reference. */
  output: string;
  /** The equivalent shell command, shown by a dry run. */
  command: string;
  run: () => Promise<void> | void;
  /** Checks that the output carries the version; returns the manifest entry. */
  verify: () => Record<string, string>;
}

const VERSION_LABEL = 'org.opencontainers.image.version';

function sh(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, args, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Image reference for a repository name under the optional registry prefix. */
function imageRef(options: ReleaseOptions, name: string, tag: string): string {
  return `${options.registry ? `${options.registry.replace(/\/$/, '')}/` : ''}${name}:${tag}`;
}

/**
 * `docker build` arguments: only what the classic builder and BuildKit share (the Dockerfiles need no BuildKit
 * feature), the version as an OCI label. Local base images work with either (`DOCKER_BUILDKIT=0` picks the classic one).
 */
function dockerBuild(ref: string, version: string, context: string, extra: string[]): string[] {
  return ['build', '--label', `${VERSION_LABEL}=${version}`, '-t', ref, ...extra, context];
}

function imageVersion(ref: string): Record<string, string> {
  const label = sh('docker', [
    'image',
    'inspect',
    '--format',
    `{{index .Config.Labels "${VERSION_LABEL}"}}`,
    ref,
  ]).trim();
  const id = sh('docker', ['image', 'inspect', '--format', '{{.Id}}', ref]).trim();
  return { image: ref, id, version: label };
}

function buildArg(name: string, value: string | undefined): string[] {
  return value ? ['--build-arg', `${name}=${value}`] : [];
}

/** The tag part of an image reference (`v25.4.0` → `25.4.0`), for the agent images' tags. */
export function baseTag(ref: string): string {
  const name = ref.slice(ref.lastIndexOf('/') + 1).split('@')[0]!;
  const colon = name.indexOf(':');
  return colon < 0 ? 'latest' : name.slice(colon + 1).replace(/^v(?=\d)/, '');
}

/** The release plan for `version`, writing files under `outDir`. */
export function planRelease(options: ReleaseOptions, version: string, outDir: string): Step[] {
  const root = options.root ?? ROOT;
  const shown = (args: string[]) => args.join(' ').replaceAll(`${root}/`, '').replaceAll(root, '.');
  const jarSource = join(root, 'gocd-plugin', 'dist', 'gocd-agent-scaler-plugin.jar');
  const jar = join(outDir, `gocd-agent-scaler-plugin-${version}.jar`);
  const lambdaZip = join(outDir, `gocd-agent-scaler-lambda-${version}.zip`);
  const agentTag = `${version}-gocd${baseTag(options.gocdBase)}`;
  const images = {
    service: imageRef(options, 'gocd-agent-scaler', version),
    dind: imageRef(options, 'gocd-agent-dind', agentTag),
    cli: imageRef(options, 'gocd-agent-docker-cli', agentTag),
    janitor: imageRef(options, 'gocd-agent-scaler-janitor', version),
  };
  const agentDir = join(root, 'docker', 'agent');
  const image = (id: ArtefactId, ref: string, args: string[]): Step => ({
    id,
    output: ref,
    command: shown(['docker', ...args]),
    run: () => {
      sh('docker', args);
    },
    verify: () => imageVersion(ref),
  });
  /** docker/agent/<file>, FROM the GoCD base, with the engine-source build argument. */
  const agentImage = (id: ArtefactId, ref: string, file: string, source: string[]): Step =>
    image(
      id,
      ref,
      dockerBuild(ref, version, agentDir, [
        '-f',
        join(agentDir, file),
        ...buildArg('BASE', options.gocdBase),
        ...source,
      ]),
    );
  const steps: Step[] = [
    {
      id: 'jar',
      output: relative(root, jar),
      command: `gocd-plugin/build.sh && cp ${relative(root, jarSource)} ${relative(root, jar)}`,
      run: () => {
        sh(join(root, 'gocd-plugin', 'build.sh'), []);
        copyFileSync(jarSource, jar);
      },
      verify: () => {
        const dir = mkdtempSync(join(tmpdir(), 'gas-release-jar-'));
        try {
          sh('jar', ['xf', jar, 'plugin.xml'], { cwd: dir });
          const stamped = /<version>([^<]+)<\/version>/.exec(readFileSync(join(dir, 'plugin.xml'), 'utf8'))?.[1];
          return { file: relative(outDir, jar), sha256: sha256(jar), version: stamped ?? '' };
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    },
    {
      id: 'lambda',
      output: relative(root, lambdaZip),
      command: `npm run bundle && jar --create --no-manifest --file=${relative(root, lambdaZip)} -C dist/lambda .`,
      run: async () => {
        const dir = join(outDir, 'lambda');
        await bundleLambda({ outDir: dir, metaFile: join(outDir, 'lambda-meta.json') });
        // A zip for the Lambda console or `aws lambda update-function-code`; the JDK's jar tool writes plain zip.
        sh('jar', ['--create', '--no-manifest', `--file=${lambdaZip}`, '-C', dir, '.']);
        rmSync(dir, { recursive: true, force: true });
      },
      verify: () => {
        const dir = mkdtempSync(join(tmpdir(), 'gas-release-lambda-'));
        try {
          sh('jar', ['xf', lambdaZip, 'index.mjs'], { cwd: dir });
          // The bundle carries src/version.ts's VERSION as a string literal.
          const found = readFileSync(join(dir, 'index.mjs'), 'utf8').includes(`"${version}"`);
          return { file: relative(outDir, lambdaZip), sha256: sha256(lambdaZip), version: found ? version : '' };
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    },
    image(
      'service-image',
      images.service,
      dockerBuild(images.service, version, root, buildArg('NODE_IMAGE', options.nodeImage)),
    ),
    agentImage('agent-dind', images.dind, 'dind.Dockerfile', buildArg('DOCKER_IMAGE', options.dockerImage)),
    agentImage(
      'agent-docker-cli',
      images.cli,
      'docker-cli.Dockerfile',
      buildArg('DOCKER_CLI_IMAGE', options.dockerCliImage),
    ),
    image(
      'janitor-image',
      images.janitor,
      dockerBuild(images.janitor, version, join(root, 'docker', 'janitor'), buildArg('BASE', options.janitorBase)),
    ),
  ];
  return steps.filter((s) => !options.skip.includes(s.id));
}

/** Runs (or, on a dry run, prints) a release; returns the process exit code. */
export async function release(options: ReleaseOptions, log: (line: string) => void): Promise<number> {
  const root = options.root ?? ROOT;
  const version = options.version ?? currentVersion(root);
  const problem = releaseVersionProblem(root, version);
  if (problem) {
    log(`release ${version}: ${problem}`);
    return 1;
  }
  if (options.push && !options.registry) {
    log('--push needs --registry (where the images go)');
    return 1;
  }
  const outDir = options.out ?? join(root, 'dist', 'release', version);
  log(`${options.dryRun ? 'dry run: ' : ''}release ${version} into ${relative(root, outDir) || outDir}`);
  // Every site must agree before anything is stamped (a half-bumped tree is a mistake to stop at).
  currentVersion(root);
  for (const stamp of stampVersion(root, version, !options.dryRun)) {
    const change = stamp.from === stamp.to ? `${stamp.to} (unchanged)` : `${stamp.from} → ${stamp.to}`;
    log(`  version ${stamp.file} (${stamp.describe}): ${change}`);
  }
  const steps = planRelease(options, version, outDir);
  for (const skipped of options.skip) log(`  skip ${skipped}`);
  if (options.dryRun) {
    for (const step of steps) log(`  build ${step.id} ${version}: ${step.output} ← ${step.command}`);
    if (options.push)
      for (const step of steps.filter((s) => s.id.endsWith('image') || s.id.startsWith('agent')))
        log(`  push ${step.output}`);
    return 0;
  }
  mkdirSync(outDir, { recursive: true });
  const manifest: Record<string, Record<string, string>> = {};
  for (const step of steps) {
    log(`building ${step.id} → ${step.output}`);
    await step.run();
    const entry = step.verify();
    if (entry.version !== version) {
      log(`${step.id}: built with version "${entry.version}", expected ${version}`);
      return 1;
    }
    manifest[step.id] = entry;
  }
  if (options.push) {
    for (const entry of Object.values(manifest)) if (entry.image) sh('docker', ['push', entry.image]);
  }
  const commit = (() => {
    try {
      return sh('git', ['describe', '--always', '--dirty'], { cwd: root }).trim();
    } catch {
      return 'unknown';
    }
  })();
  const file = join(outDir, 'manifest.json');
  writeFileSync(
    file,
    `${JSON.stringify({ version, commit, gocdBase: options.gocdBase, artefacts: manifest }, null, 2)}\n`,
  );
  log(
    `release ${version}: ${Object.keys(manifest).length} artefacts, manifest ${relative(root, file)} (${statSync(file).size} bytes)`,
  );
  return 0;
}

/** Command-line options → ReleaseOptions (throws on an unknown option or artefact). */
export function parseReleaseArgs(argv: string[]): ReleaseOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      version: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      out: { type: 'string' },
      registry: { type: 'string' },
      push: { type: 'boolean', default: false },
      skip: { type: 'string', default: '' },
      'gocd-base': { type: 'string', default: DEFAULT_GOCD_BASE },
      'docker-image': { type: 'string' },
      'docker-cli-image': { type: 'string' },
      'janitor-base': { type: 'string' },
      'node-image': { type: 'string' },
    },
    strict: true,
  });
  const skip = (values.skip ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = skip.filter((s) => !(ARTEFACTS as readonly string[]).includes(s));
  if (unknown.length)
    throw new Error(`--skip: unknown artefact ${unknown.join(', ')} (known: ${ARTEFACTS.join(', ')})`);
  return {
    version: values.version,
    dryRun: values['dry-run'] ?? false,
    out: values.out,
    registry: values.registry,
    push: values.push ?? false,
    skip: skip as ArtefactId[],
    gocdBase: values['gocd-base'] ?? DEFAULT_GOCD_BASE,
    dockerImage: values['docker-image'],
    dockerCliImage: values['docker-cli-image'],
    janitorBase: values['janitor-base'],
    nodeImage: values['node-image'],
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.exitCode = await release(parseReleaseArgs(process.argv.slice(2)), (line) => console.log(line));
  } catch (err) {
    console.error(`release: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
