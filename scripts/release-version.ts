import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The files that carry the release version, and how to find it in each. The forwarder jar takes its version from
 * package.json at build time (gocd-plugin/build.sh); the Lambda bundle and the service from src/version.ts.
 */
const VERSION_SITES: readonly { file: string; pattern: RegExp; describe: string }[] = [
  { file: 'package.json', pattern: /^( {2}"version": ")([^"]+)(")/m, describe: 'package version' },
  { file: 'package-lock.json', pattern: /^( {2}"version": ")([^"]+)(")/m, describe: 'lockfile version' },
  {
    file: 'package-lock.json',
    pattern: /^( {4}"": \{\n {6}"name": "[^"]+",\n {6}"version": ")([^"]+)(")/m,
    describe: 'lockfile root package',
  },
  { file: 'src/version.ts', pattern: /^(export const VERSION = ')([^']+)(';)/m, describe: 'service VERSION' },
  { file: 'openapi.yaml', pattern: /^(info:\n(?: {2}.*\n)*? {2}version: )(\S+)()$/m, describe: 'openapi info.version' },
];

/** Semantic version, as npm accepts it (pre-release and build metadata allowed). */
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** One place a version is written. */
export interface VersionStamp {
  file: string;
  describe: string;
  from: string;
  to: string;
}

/** Why `version` cannot be released from `root`, or undefined. */
export function releaseVersionProblem(root: string, version: string): string | undefined {
  if (!SEMVER.test(version)) return `"${version}" is not a semantic version (x.y.z)`;
  const changelog = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');
  if (!new RegExp(`^## \\[${version.replace(/[.+]/g, '\\$&')}\\]`, 'm').test(changelog)) {
    return `CHANGELOG.md has no "## [${version}]" section: move the Unreleased notes under it, with the date`;
  }
  return undefined;
}

/** The version every site holds now; throws naming the sites when they disagree or one is not found. */
export function currentVersion(root: string): string {
  const found = VERSION_SITES.map((site) => {
    const m = site.pattern.exec(readFileSync(join(root, site.file), 'utf8'));
    if (!m) throw new Error(`no ${site.describe} found in ${site.file}`);
    return { site, version: m[2]! };
  });
  const versions = new Set(found.map((f) => f.version));
  if (versions.size !== 1) {
    throw new Error(`versions disagree: ${found.map((f) => `${f.site.describe} ${f.version}`).join(', ')}`);
  }
  return found[0]!.version;
}

/**
 * Sets every version site under `root` to `version`. With `write: false` (a dry run) it only reports what it would
 * change. Returns one entry per site.
 */
export function stampVersion(root: string, version: string, write: boolean): VersionStamp[] {
  const contents = new Map<string, string>();
  const stamps: VersionStamp[] = [];
  for (const site of VERSION_SITES) {
    const text = contents.get(site.file) ?? readFileSync(join(root, site.file), 'utf8');
    const m = site.pattern.exec(text);
    if (!m) throw new Error(`no ${site.describe} found in ${site.file}`);
    stamps.push({ file: site.file, describe: site.describe, from: m[2]!, to: version });
    contents.set(
      site.file,
      text.replace(site.pattern, (_all, before: string, _v: string, after: string) => `${before}${version}${after}`),
    );
  }
  // Only files whose text changes are written: a rewrite of an unchanged package.json would still make the
  // forwarder jar look out of date to gocd-plugin/build.sh (it compares modification times).
  if (write) {
    for (const [file, text] of contents) {
      if (text !== readFileSync(join(root, file), 'utf8')) writeFileSync(join(root, file), text);
    }
  }
  return stamps;
}
