import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// infra/ is its own npm workspace (the AWS CDK app): `npm ci` at the root installs it for the tests and `npm run
// synth`, while the service image's installs (the Dockerfile's `npm ci` lines, run where only package.json and
// package-lock.json are copied) leave the CDK out.

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'scaler-image-install-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The arguments of every `RUN npm ci …` line of the Dockerfile. */
function dockerfileInstalls(): string[][] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  return [...text.matchAll(/^RUN npm ci ([^&\n]+)/gm)].map((m) => m[1]!.trim().split(/\s+/));
}

describe('the infra workspace', () => {
  it('is declared at the root, with the CDK among its own (development) dependencies only', () => {
    const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const infra = JSON.parse(readFileSync(join(ROOT, 'infra', 'package.json'), 'utf8'));
    expect(root.workspaces).toEqual(['infra']);
    expect({ ...root.dependencies, ...root.devDependencies }).not.toHaveProperty('aws-cdk-lib');
    expect(infra.devDependencies).toHaveProperty('aws-cdk-lib');
  });

  it("leaves aws-cdk-lib out of both of the service image's installs, and puts the service's packages in", async () => {
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    copyFileSync(join(ROOT, 'package-lock.json'), join(dir, 'package-lock.json'));
    const installs = dockerfileInstalls();
    expect(installs).toHaveLength(2);
    for (const args of installs) {
      const { stdout } = await run('npm', ['ci', ...args, '--dry-run', '--ignore-scripts'], {
        cwd: dir,
        env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' },
      });
      const added = stdout.split('\n').flatMap((l) => (l.startsWith('add ') ? [l.split(' ')[1]] : []));
      expect(added, args.join(' ')).toContain('fastify');
      expect(added, args.join(' ')).not.toContain('aws-cdk-lib');
      expect(added, args.join(' ')).not.toContain('constructs');
    }
  });
});
