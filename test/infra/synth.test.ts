import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/lib/scaler-app.js';

// `npm run synth` as an operator runs it on a fresh checkout: no AWS credentials, no region, no CDK CLI, no
// ~/.aws. It bundles first, then writes the CloudFormation template and the Lambda asset to infra/cdk.out.

const home = mkdtempSync(join(tmpdir(), 'scaler-synth-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function runSynth(timeoutMs = 240_000): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, CI: process.env.CI };
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'synth'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('npm run synth', () => {
  it('writes the template and the Lambda asset without AWS credentials', { timeout: 300_000 }, async () => {
    const { code, output } = await runSynth();
    expect(code, output).toBe(0);
    const out = join(REPO_ROOT, 'infra', 'cdk.out');
    const template = JSON.parse(readFileSync(join(out, 'GocdAgentScaler.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties?: { Code?: { S3Key?: unknown } } }>;
    };
    const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
    expect(fn).toBeDefined();
    const assets = JSON.parse(readFileSync(join(out, 'GocdAgentScaler.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string } }>;
    };
    const lambdaAsset = Object.values(assets.files).find((f) => existsSync(join(out, f.source.path, 'index.mjs')));
    expect(lambdaAsset, 'an asset folder holding index.mjs').toBeDefined();
    const staged = join(out, lambdaAsset!.source.path);
    // The service config, converted from its YAML to JSON at synth: the cold start reads it without a YAML parser.
    expect(JSON.parse(readFileSync(join(staged, 'scaler.json'), 'utf8'))).toMatchObject({
      store: { type: 'dynamodb' },
    });
    expect(existsSync(join(staged, 'openapi.yaml'))).toBe(true);
  });
});
