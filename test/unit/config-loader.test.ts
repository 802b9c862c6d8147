import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, maskSecrets } from '../../src/config/config-loader.js';
import { parseConfig } from '../../src/config/config-text.js';

const env = { SCALER_FORWARDER_TOKEN: 'forwarder-token-abcdefgh' };

function problemsOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config loader', () => {
  it('gives the built-in defaults for an empty config', () => {
    const { config, generatedForwarderToken } = parseConfig('', 'test', { env });
    expect(config.server).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.limits.bodyBytes).toBe(1048576);
    expect(config.store.type).toBe('memory');
    expect(config.gocd.forwarderToken).toBe(env.SCALER_FORWARDER_TOKEN);
    expect(generatedForwarderToken).toBe(false);
    expect(Object.isFrozen(config.gocd)).toBe(true);
  });

  it('generates a forwarder token when none is configured, but not when told not to (Lambda)', () => {
    const a = parseConfig('', 'test', { env: {} });
    expect(a.generatedForwarderToken).toBe(true);
    expect(a.config.gocd.forwarderToken.length).toBeGreaterThanOrEqual(32);
    expect(parseConfig('', 'test', { env: {} }).config.gocd.forwarderToken).not.toBe(a.config.gocd.forwarderToken);
    expect(problemsOf(() => parseConfig('', 'test', { env: {}, allowGeneratedToken: false }))).toEqual([
      { path: '/gocd/forwarderToken', message: expect.stringContaining('SCALER_FORWARDER_TOKEN') },
    ]);
  });

  it('interpolates ENV references and ENV references with a default in values', () => {
    const yaml = `gocd:\n  apiUrl: \${GOCD_URL:-https://gocd.local/go}\n  apiToken: \${GOCD_TOKEN}\nserver:\n  port: 9090\n`;
    const { config } = parseConfig(yaml, 'test', { env: { ...env, GOCD_TOKEN: 'tok-123' } });
    expect(config.gocd.apiUrl).toBe('https://gocd.local/go');
    expect(config.gocd.apiToken).toBe('tok-123');
    expect(config.server.port).toBe(9090);
  });

  it('takes HOST and PORT from the environment when the file does not set them', () => {
    const { config } = parseConfig('', 'test', { env: { ...env, HOST: '0.0.0.0', PORT: '9999' } });
    expect(config.server).toEqual({ host: '0.0.0.0', port: 9999 });
  });

  it('lets HOST and PORT win over the file, as README, the Dockerfile and serve --help say', () => {
    const yaml = 'server: { host: 127.0.0.1, port: 8081 }';
    const { config } = parseConfig(yaml, 'test', { env: { ...env, HOST: '0.0.0.0', PORT: '9999' } });
    expect(config.server).toEqual({ host: '0.0.0.0', port: 9999 });
    expect(parseConfig(yaml, 'test', { env }).config.server).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(problemsOf(() => parseConfig('', 'test', { env: { ...env, PORT: 'http' } }))).toEqual([
      { path: '/server/port', message: 'must be integer' },
    ]);
  });

  it('reports every problem at once, each with the path of the bad key', () => {
    const yaml = [
      'server: { port: 70000 }',
      'limits: { bodyBytes: 10 }',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a ${...} reference is the YAML under test
      'gocd: { apiUrl: ftp://x, apiToken: "${MISSING_TOKEN}" }',
      'registries:',
      '  - { name: "bad name", type: nexus, host: h, secret: short }',
      'colour: blue',
    ].join('\n');
    const problems = problemsOf(() => parseConfig(yaml, 'test', { env }));
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/gocd/apiToken',
        '/server/port',
        '/limits/bodyBytes',
        '/gocd/apiUrl',
        '/registries/0/name',
        '/registries/0/type',
        '/registries/0/secret',
        '',
      ]),
    );
    expect(problems.find((p) => p.path === '/gocd/apiToken')?.message).toContain('MISSING_TOKEN');
    expect(problems.find((p) => p.path === '')?.message).toContain("'colour' is not a known key");
  });

  it('checks what the schema cannot: duplicate registry names and tag regexes', () => {
    const yaml = [
      'gocd: { apiUrl: "https://g/go", apiToken: t }',
      'registries:',
      '  - { name: docker, type: distribution, host: r.example, secret: secret-123 }',
      '  - { name: docker, type: distribution, host: r2.example, secret: secret-456 }',
      'subscriptions:',
      '  - { image: r.example/app, tags: "^(1", pipelines: [deploy] }',
    ].join('\n');
    const problems = problemsOf(() => parseConfig(yaml, 'test', { env }));
    expect(problems.map((p) => p.path)).toEqual(['/registries/1/name', '/subscriptions/0/tags']);
  });

  it('refuses YAML that does not parse, naming the file', () => {
    expect(() => parseConfig('gocd: [unclosed', 'my.yaml', { env })).toThrow(/invalid config my.yaml/);
  });

  it('reads $SCALER_CONFIG, and says so when the file is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'scaler.yaml');
    writeFileSync(file, 'log: { level: warn }\n');
    expect((await loadConfig({ env: { ...env, SCALER_CONFIG: file } })).config.log.level).toBe('warn');
    await expect(loadConfig({ env: { ...env, SCALER_CONFIG: join(dir, 'nope.yaml') } })).rejects.toThrow(/ENOENT/);
  });

  it('reads a JSON config without the YAML parser, and the same config as YAML alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const json = join(dir, 'scaler.json');
    const yamlFile = join(dir, 'scaler.yaml');
    const reference = '$' + '{TOKEN_FROM_ENV}';
    writeFileSync(json, JSON.stringify({ log: { level: 'warn' }, gocd: { apiToken: reference } }));
    writeFileSync(yamlFile, `log: { level: warn }\ngocd: { apiToken: "${reference}" }\n`);
    const fromJson = await loadConfig({ env: { ...env, TOKEN_FROM_ENV: 'x-token', SCALER_CONFIG: json } });
    const fromYaml = await loadConfig({ env: { ...env, TOKEN_FROM_ENV: 'x-token', SCALER_CONFIG: yamlFile } });
    expect(fromJson.config).toEqual(fromYaml.config);
    expect(fromJson.config.gocd.apiToken).toBe('x-token');
  });

  it('masks every secret when the config is shown', () => {
    const yaml = [
      'gocd: { apiUrl: "https://g/go", apiToken: api-secret-token }',
      'registries:',
      '  - { name: hub, type: dockerhub, host: docker.io, secret: hook-secret-1, secondarySecret: hook-secret-2, username: u, password: pw-123 }',
      'metrics: { token: metrics-secret-token-0123 }',
    ].join('\n');
    const { config } = parseConfig(yaml, 'test', { env });
    const shown = JSON.stringify(maskSecrets(config));
    const secrets = ['api-secret-token', 'hook-secret-1', 'hook-secret-2', 'pw-123', 'metrics-secret-token-0123'];
    for (const secret of [env.SCALER_FORWARDER_TOKEN, ...secrets]) {
      expect(shown).not.toContain(secret);
    }
    expect(shown).toContain('"username":"u"');
  });
});
