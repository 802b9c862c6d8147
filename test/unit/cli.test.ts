import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/main/cli.js';
import { closedPort } from '../support/gocd-host.js';

const dir = mkdtempSync(join(tmpdir(), 'cli-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(
    argv,
    (s) => (out += s),
    (s) => (err += s),
  );
  return { code, out, err };
}

describe('gocd-agent-scaler CLI', () => {
  it('check-config accepts a good file, exits 0 and never prints its secrets', async () => {
    const path = file('good.yaml', 'gocd:\n  forwarderToken: a-very-secret-forwarder-token\n');
    const r = await cli('check-config', path);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${path}: OK`);
    expect(r.out).toContain(
      '  policy: Docker engines local; ECS clusters any, regions any, accounts any; cluster profiles may allow: privileged no, socket no, host network no, capabilities none\n',
    );
    expect(r.out).not.toContain('a-very-secret-forwarder-token');
  });

  it('check-config lists every problem with the path of the bad key and exits 1', async () => {
    const path = file('bad.yaml', 'server:\n  port: -1\nregistries:\n  - { name: x, type: quay }\n');
    const r = await cli('check-config', path);
    expect(r.code).toBe(1);
    expect(r.err).toContain('3 problems');
    expect(r.err).toContain('/server/port: must be >= 0');
    expect(r.err).toContain("/registries/0/host: must have required property 'host'");
    expect(r.err).toContain("/registries/0/secret: must have required property 'secret'");
  });

  it('check-config reports schema and semantic problems together in one pass, and names allowed values', async () => {
    const path = file(
      'mixed.yaml',
      [
        'log: { level: loud }',
        'store: { type: redis }',
        'gocd: { apiUrl: "http://gocd:8153/go", apiToken: t }',
        'registries:',
        '  - { name: hub, type: dockerhub, host: docker.io, secret: s-0123456789 }',
        '  - { name: hub, type: quay, host: quay.io, secret: s-0123456789 }',
        '  - { name: x, type: ftp, host: x, secret: s }',
        'subscriptions:',
        "  - { image: docker.io/a/b, tags: '(', pipelines: [p] }",
      ].join('\n'),
    );
    const r = await cli('check-config', path);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      '/log/level: must be equal to one of the allowed values: fatal, error, warn, info, debug, trace, silent',
    );
    expect(r.err).toContain('/store/type: must be equal to one of the allowed values: memory, dynamodb');
    expect(r.err).toContain(
      '/registries/2/type: must be equal to one of the allowed values: distribution, ecr, dockerhub, harbor, github, quay, artifactory',
    );
    // The semantic problems, in the same pass as the schema's.
    expect(r.err).toContain("/registries/1/name: duplicate registry name 'hub'");
    expect(r.err).toContain('/subscriptions/0/tags: not a valid regular expression');
  });

  it('exits 2 for usage errors and unreadable files', async () => {
    expect((await cli('check-config')).code).toBe(2);
    expect((await cli('check-config', join(dir, 'missing.yaml'))).err).toContain('ENOENT');
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli()).code).toBe(2);
    expect((await cli('--help')).code).toBe(0);
  });

  it('doctor exits 1 and says why when GoCD cannot be reached, 2 for a bad config', async () => {
    const path = file(
      'doctor.yaml',
      'gocd: { forwarderToken: forwarder-token-123456, apiUrl: "http://127.0.0.1:9/go", apiToken: t }\n',
    );
    const r = await cli('doctor', path);
    expect(r.code).toBe(1);
    expect(r.out).toContain('✘ GoCD API: cannot reach http://127.0.0.1:9/go');
    expect(r.err).toContain('1 problem found');
    expect((await cli('doctor', file('doctor-bad.yaml', 'gocd: { apiUrl: 12 }\n'))).code).toBe(2);
  });

  it('answers -h and --help at the top and for every command, without running it', async () => {
    for (const flag of ['-h', '--help']) {
      const top = await cli(flag);
      expect(top.code).toBe(0);
      expect(top.out).toContain('Usage:');
      for (const command of ['serve', 'check-config', 'doctor', 'rerun']) {
        const r = await cli(command, flag);
        expect(r.code, `${command} ${flag}`).toBe(0);
        expect(r.out).toContain(`Usage: gocd-agent-scaler ${command}`);
        expect(r.out).toContain('Exit codes:');
        expect(r.err).toBe('');
      }
    }
    expect((await cli('help', 'doctor')).out).toContain('Usage: gocd-agent-scaler doctor');
    expect((await cli('serve', '--help')).out).toContain('win over the file');
    expect((await cli('help', 'nothing')).code).toBe(2);
  });

  it('doctor shows the cause of a connection failure, not only "fetch failed"', async () => {
    const port = await closedPort();
    const path = file(
      'doctor-refused.yaml',
      `gocd: { forwarderToken: forwarder-token-123456, apiUrl: "http://127.0.0.1:${port}/go", apiToken: t }\n`,
    );
    const r = await cli('doctor', path);
    expect(r.out).toContain(
      `cannot reach http://127.0.0.1:${port}/go: fetch failed (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
  });

  it('runs as a program with the same exit codes', async () => {
    const path = file('bad2.yaml', 'log: { level: loud }\n');
    const run = promisify(execFile);
    const result = await run(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', 'check-config', path]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((result as { code: number }).code).toBe(1);
    expect((result as { stderr: string }).stderr).toContain('/log/level: must be equal to one of the allowed values');
  });
});
