import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseReleaseArgs, release } from '../../scripts/release.js';
import { currentVersion, releaseVersionProblem, stampVersion } from '../../scripts/release-version.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FILES = ['package.json', 'package-lock.json', 'src/version.ts', 'openapi.yaml', 'CHANGELOG.md'];

/** A scratch copy of the files that carry the version, with a CHANGELOG section for `extra` versions. */
function scratchRoot(...extra: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'gas-release-'));
  mkdirSync(join(dir, 'src'));
  for (const f of FILES) cpSync(join(ROOT, f), join(dir, f));
  const changelog = readFileSync(join(dir, 'CHANGELOG.md'), 'utf8');
  const sections = extra.map((v) => `## [${v}] - 2027-01-15\n\n- test release\n\n`).join('');
  writeFileSync(join(dir, 'CHANGELOG.md'), changelog.replace('## [Unreleased]', `${sections}## [Unreleased]`));
  return dir;
}

/** The version each consumer reads, the way it reads it. */
function versionsSeen(root: string): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    version: string;
    packages: Record<string, { version: string }>;
  };
  const openapi = parseYaml(readFileSync(join(root, 'openapi.yaml'), 'utf8')) as { info: { version: string } };
  return {
    'package.json': pkg.version,
    'package-lock.json': lock.version,
    'package-lock.json packages[""]': lock.packages['']!.version,
    'src/version.ts': /VERSION = '([^']+)'/.exec(readFileSync(join(root, 'src/version.ts'), 'utf8'))![1]!,
    'openapi.yaml info': openapi.info.version,
  };
}

describe('release version stamping', () => {
  let dir: string;
  beforeEach(() => {
    dir = scratchRoot('1.2.3', '2.0.0-rc.1');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the repository holds one version everywhere it is written', () => {
    const seen = versionsSeen(ROOT);
    expect(new Set(Object.values(seen)).size).toBe(1);
    expect(currentVersion(ROOT)).toBe(seen['package.json']);
  });

  it('stamping sets package.json, the lockfile (twice), src/version.ts and openapi.yaml, as their readers see them', () => {
    const before = currentVersion(dir);
    const stamps = stampVersion(dir, '1.2.3', true);
    expect(stamps.map((s) => [s.file, s.from, s.to])).toEqual([
      ['package.json', before, '1.2.3'],
      ['package-lock.json', before, '1.2.3'],
      ['package-lock.json', before, '1.2.3'],
      ['src/version.ts', before, '1.2.3'],
      ['openapi.yaml', before, '1.2.3'],
    ]);
    expect(Object.values(versionsSeen(dir))).toEqual(Array(5).fill('1.2.3'));
    expect(currentVersion(dir)).toBe('1.2.3');
  });

  it('stamping changes nothing but the version', () => {
    const original = Object.fromEntries(FILES.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    stampVersion(dir, '2.0.0-rc.1', true);
    expect(readFileSync(join(dir, 'CHANGELOG.md'), 'utf8')).toBe(original['CHANGELOG.md']);
    for (const f of FILES.filter((f) => f !== 'CHANGELOG.md')) {
      const changed = readFileSync(join(dir, f), 'utf8');
      expect(changed).not.toBe(original[f]);
      expect(changed.replaceAll('2.0.0-rc.1', currentVersionOf(original))).toBe(original[f]);
    }
  });

  it('a dry run reports the stamps and writes nothing', async () => {
    const mtimes = FILES.map((f) => statSync(join(dir, f)).mtimeMs);
    const lines: string[] = [];
    const code = await release({ ...parseReleaseArgs(['--dry-run', '--version', '1.2.3']), root: dir }, (l) =>
      lines.push(l),
    );
    expect(code).toBe(0);
    const from = currentVersion(dir);
    expect(lines.filter((l) => l.includes(`${from} → 1.2.3`))).toHaveLength(5);
    // Every artefact is planned with the same version.
    const builds = lines.filter((l) => l.trimStart().startsWith('build '));
    expect(builds.map((l) => l.trim().split(' ')[1])).toEqual([
      'jar',
      'lambda',
      'service-image',
      'agent-dind',
      'agent-docker-cli',
      'janitor-image',
    ]);
    for (const l of builds) expect(l).toMatch(/ 1\.2\.3: \S*1\.2\.3/);
    expect(lines.some((l) => l.includes('org.opencontainers.image.version=1.2.3'))).toBe(true);
    expect(FILES.map((f) => statSync(join(dir, f)).mtimeMs)).toEqual(mtimes);
    expect(currentVersion(dir)).toBe(from);
  });

  it('an unchanged version rewrites no file (build.sh compares modification times)', () => {
    const mtimes = FILES.map((f) => statSync(join(dir, f)).mtimeMs);
    stampVersion(dir, currentVersion(dir), true);
    expect(FILES.map((f) => statSync(join(dir, f)).mtimeMs)).toEqual(mtimes);
  });

  it('refuses a version that is not semantic, or that CHANGELOG.md has no section for', async () => {
    expect(releaseVersionProblem(dir, '1.2')).toMatch(/not a semantic version/);
    expect(releaseVersionProblem(dir, '9.9.9')).toMatch(/CHANGELOG.md has no "## \[9\.9\.9\]" section/);
    expect(releaseVersionProblem(dir, '1.2.3')).toBeUndefined();
    const lines: string[] = [];
    expect(await release({ ...parseReleaseArgs(['--version', '9.9.9']), root: dir }, (l) => lines.push(l))).toBe(1);
    expect(lines.join('\n')).toMatch(/no "## \[9\.9\.9\]" section/);
    expect(currentVersion(dir)).not.toBe('9.9.9');
  });

  it('refuses to stamp a tree whose version sites disagree, naming them', () => {
    const pkg = readFileSync(join(dir, 'src/version.ts'), 'utf8');
    writeFileSync(join(dir, 'src/version.ts'), pkg.replace(/VERSION = '[^']+'/, "VERSION = '0.0.9'"));
    expect(() => currentVersion(dir)).toThrow(/versions disagree: .*service VERSION 0\.0\.9/);
  });

  it('--skip names known artefacts only; --push needs a registry', async () => {
    expect(() => parseReleaseArgs(['--skip', 'jar,wheel'])).toThrow(/unknown artefact wheel/);
    expect(parseReleaseArgs(['--skip', 'jar, lambda']).skip).toEqual(['jar', 'lambda']);
    const lines: string[] = [];
    expect(await release({ ...parseReleaseArgs(['--dry-run', '--push']), root: dir }, (l) => lines.push(l))).toBe(1);
    expect(lines).toContain('--push needs --registry (where the images go)');
  });
});

function currentVersionOf(files: Record<string, string>): string {
  return (JSON.parse(files['package.json']!) as { version: string }).version;
}
