import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArtefactId, parseReleaseArgs, release } from '../../scripts/release.js';
import { currentVersion } from '../../scripts/release-version.js';
import { type AgentImages, agentImagePrereqs, ensureAgentImages } from '../support/agent-images.js';
import { runId } from '../support/docker-engine.js';
import { ensureJanitorBase, janitorImagePrereqs } from '../support/docker-images.js';
import { dockerAvailable, jdkAvailable, requireService } from '../support/services.js';

// `npm run release` for real, into a scratch folder, on the stand-in bases (neither GoCD's images nor Docker Hub can
// be pulled here). The service image is skipped: its Dockerfile starts FROM node:24-bookworm-slim and runs `npm ci`
// inside the build, neither of which this CI can do offline; its version label is set the same way (`--label`) as
// the images built here.

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const ok =
  requireService('Docker engine', dockerAvailable(), 'install docker.io and start dockerd (see .ci/run)') &&
  requireService('a JDK (javac, jar)', jdkAvailable(), 'apt-get install default-jdk-headless') &&
  requireService('agent image stand-in ingredients', agentImagePrereqs() === undefined, agentImagePrereqs() ?? '') &&
  requireService('janitor image ingredients', janitorImagePrereqs() === undefined, janitorImagePrereqs() ?? '');

const RUN = runId('rel');
const REGISTRY = `gocd-agent-scaler-test/release-${RUN}`;

describe.skipIf(!ok)('npm run release on the stand-in bases', () => {
  let out: string;
  let images: AgentImages;
  let janitorBase: string;
  const version = currentVersion(ROOT);
  const lines: string[] = [];
  let code: number;

  const savedBuildkit = process.env.DOCKER_BUILDKIT;

  beforeAll(async () => {
    // The classic builder: this engine has no BuildKit, and the stand-in bases are local images.
    process.env.DOCKER_BUILDKIT = '0';
    out = mkdtempSync(join(tmpdir(), 'gas-release-out-'));
    [images, janitorBase] = await Promise.all([ensureAgentImages(), ensureJanitorBase()]);
    const options = parseReleaseArgs([
      '--out',
      out,
      '--registry',
      REGISTRY,
      '--skip',
      'service-image',
      '--gocd-base',
      images.gocdBase,
      '--docker-image',
      images.dockerSource,
      '--docker-cli-image',
      images.dockerCliSource,
      // docker:*-cli stand-in: the janitor needs sh, awk, sed, wget, timeout and socat besides the CLI.
      '--janitor-base',
      janitorBase,
    ]);
    code = await release(options, (l) => lines.push(l));
  }, 600_000);
  afterAll(async () => {
    if (savedBuildkit === undefined) delete process.env.DOCKER_BUILDKIT;
    else process.env.DOCKER_BUILDKIT = savedBuildkit;
    if (out) rmSync(out, { recursive: true, force: true });
    const { stdout } = await run('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', `${REGISTRY}/*`]);
    const refs = stdout.split('\n').filter(Boolean);
    if (refs.length) await run('docker', ['rmi', ...refs]);
  });

  it('builds every artefact but the skipped service image, each carrying the one version, listed in manifest.json', () => {
    expect(code, lines.join('\n')).toBe(0);
    expect(lines).toContain('  skip service-image');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      version: string;
      artefacts: Record<ArtefactId, Record<string, string>>;
    };
    expect(manifest.version).toBe(version);
    expect(Object.keys(manifest.artefacts)).toEqual([
      'jar',
      'lambda',
      'agent-dind',
      'agent-docker-cli',
      'janitor-image',
    ]);
    for (const entry of Object.values(manifest.artefacts)) expect(entry.version).toBe(version);
    expect(manifest.artefacts.jar.file).toBe(`gocd-agent-scaler-plugin-${version}.jar`);
    expect(manifest.artefacts.lambda.file).toBe(`gocd-agent-scaler-lambda-${version}.zip`);
    const agentTag = `${version}-gocd${images.gocdBase.split(':').pop()}`;
    expect(manifest.artefacts['agent-dind'].image).toBe(`${REGISTRY}/gocd-agent-dind:${agentTag}`);
    expect(manifest.artefacts['agent-docker-cli'].image).toBe(`${REGISTRY}/gocd-agent-docker-cli:${agentTag}`);
    expect(manifest.artefacts['janitor-image'].image).toBe(`${REGISTRY}/gocd-agent-scaler-janitor:${version}`);
  });

  it('the jar says the version in plugin.xml, and the Lambda zip holds the handler and the spec beside it', async () => {
    const jar = join(out, `gocd-agent-scaler-plugin-${version}.jar`);
    const zip = join(out, `gocd-agent-scaler-lambda-${version}.zip`);
    expect(existsSync(jar) && existsSync(zip)).toBe(true);
    const { stdout: entries } = await run('jar', ['tf', zip]);
    expect(entries.split('\n')).toEqual(expect.arrayContaining(['index.mjs', 'openapi.yaml']));
    const dir = mkdtempSync(join(tmpdir(), 'gas-release-check-'));
    try {
      await run('jar', ['xf', jar, 'plugin.xml'], { cwd: dir });
      expect(readFileSync(join(dir, 'plugin.xml'), 'utf8')).toContain(`<version>${version}</version>`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the images carry the version label and are the shipped images (their entrypoints)', async () => {
    const inspect = async (ref: string) =>
      JSON.parse((await run('docker', ['image', 'inspect', '--format', '{{json .Config}}', ref])).stdout) as {
        Labels: Record<string, string>;
        Entrypoint: string[];
      };
    const agentTag = `${version}-gocd${images.gocdBase.split(':').pop()}`;
    const dind = await inspect(`${REGISTRY}/gocd-agent-dind:${agentTag}`);
    const cli = await inspect(`${REGISTRY}/gocd-agent-docker-cli:${agentTag}`);
    const janitor = await inspect(`${REGISTRY}/gocd-agent-scaler-janitor:${version}`);
    for (const c of [dind, cli, janitor]) expect(c.Labels['org.opencontainers.image.version']).toBe(version);
    expect(dind.Entrypoint).toEqual(['/usr/local/bin/docker-init', '--', '/usr/local/bin/gocd-agent-dind']);
    expect(cli.Entrypoint).toEqual(['/usr/local/bin/gocd-agent-docker-cli']);
    expect(janitor.Entrypoint).toEqual(['/usr/local/bin/gocd-janitor']);
  });
});
