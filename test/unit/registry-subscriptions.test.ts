import { describe, expect, it } from 'vitest';
import { materialEnv, materialName, materialVariableNames } from '../../src/registry/material-env.js';
import { compileSubscription, globPrefix, globToRegExp, SubscriptionTable } from '../../src/registry/subscriptions.js';

const push = (repository: string, tag: string, host = 'registry.example.com') => ({ host, repository, tag });

describe('subscriptions', () => {
  it('matches an exact image and, by default, any tag', () => {
    const table = new SubscriptionTable([{ image: 'registry.example.com/backends/database-x', pipelines: ['deploy'] }]);
    expect(table.pipelinesFor(push('backends/database-x', 'anything'))).toEqual(['deploy']);
    expect(table.pipelinesFor(push('backends/database-y', '1.0'))).toEqual([]);
    expect(table.pipelinesFor(push('backends/database-x', '1.0', 'other.example.com'))).toEqual([]);
  });

  it('applies the tag regex unanchored, like the GoCD docker poller', () => {
    const sub = compileSubscription({ image: 'r/x', tags: '1\\.2', pipelines: ['p'] });
    expect(['1.2.3', 'v1.2', '11.2.0'].map((t) => sub.tags!.test(t))).toEqual([true, true, true]);
    expect(sub.tags!.test('1.3.0')).toBe(false);
    const anchored = compileSubscription({ image: 'r/x', tags: '^1\\.2\\.\\d+$', pipelines: ['p'] });
    expect(['1.2.3', 'v1.2.3', '1.2.3-rc1'].map((t) => anchored.tags!.test(t))).toEqual([true, false, false]);
  });

  it('reads * within one path segment and ** across segments', () => {
    expect(globToRegExp('registry.example.com/backends/*').test('registry.example.com/backends/db')).toBe(true);
    expect(globToRegExp('registry.example.com/backends/*').test('registry.example.com/backends/db/x')).toBe(false);
    expect(globToRegExp('registry.example.com/**').test('registry.example.com/backends/db/x')).toBe(true);
    expect(globToRegExp('registry.example.com/team?/app').test('registry.example.com/team1/app')).toBe(true);
    // Regex characters in the image are literal.
    expect(globToRegExp('registry.example.com/a.b/*').test('registry.example.com/aXb/c')).toBe(false);
  });

  it('reads ** in the middle of a glob as any number of whole segments, not as part of a name', () => {
    const re = globToRegExp('r.io/**/app');
    expect(re.test('r.io/team/app')).toBe(true);
    expect(re.test('r.io/a/b/app')).toBe(true);
    expect(re.test('r.io/xapp')).toBe(false);
    expect(re.test('r.io/team/app2')).toBe(false);
  });

  it('reads a single * before a literal as one segment only', () => {
    const re = globToRegExp('r.io/*/app');
    expect(re.test('r.io/team/app')).toBe(true);
    expect(re.test('r.io/a/b/app')).toBe(false);
  });

  it('anchors a glob at both ends', () => {
    const re = globToRegExp('r.io/team/*');
    expect(re.test('mirror.r.io/team/app')).toBe(false);
    expect(re.test('xr.io/team/app')).toBe(false);
  });

  it.each([
    ['.', 'r.io/a.b', 'r.io/aXb'],
    ['+', 'r.io/a+b', 'r.io/aab'],
    ['$', 'r.io/a$b', 'r.io/a'],
    ['^', 'r.io/^a', 'r.io/a'],
    ['|', 'r.io/a|r.io/b', 'r.io/b'],
    ['( )', 'r.io/(a)', 'r.io/a'],
    ['[ ]', 'r.io/[ab]', 'r.io/a'],
    ['{ }', 'r.io/a{2}', 'r.io/aa'],
    ['\\', 'r.io/a\\d', 'r.io/a1'],
  ])('takes the regex character %s in an image glob literally', (_c, glob, other) => {
    const re = globToRegExp(`${glob}*`);
    expect(re.test(`${glob}x`)).toBe(true);
    expect(re.test(`${other}x`)).toBe(false);
  });

  it('reads ? as exactly one character within a segment', () => {
    const re = globToRegExp('r.io/team?/app');
    expect(re.test('r.io/team/app')).toBe(false);
    expect(re.test('r.io/team12/app')).toBe(false);
    expect(re.test('r.io/team//app')).toBe(false);
  });

  it('matches a glob subscription against pushes through the table, an exact one only by equality', () => {
    const table = new SubscriptionTable([
      { image: 'registry.example.com/backends/*', pipelines: ['glob'] },
      { image: 'registry.example.com/backends/db', pipelines: ['exact'] },
    ]);
    expect(table.pipelinesFor(push('backends/db', '1'))).toEqual(['glob', 'exact']);
    expect(table.pipelinesFor(push('backends/cache', '1'))).toEqual(['glob']);
    expect(table.pipelinesFor(push('frontends/db', '1'))).toEqual([]);
    expect(table.subscriptions.map((s) => s.isGlob)).toEqual([true, false]);
  });

  it('knows a glob by * or ? anywhere in the image', () => {
    expect(compileSubscription({ image: 'r.io/a?', pipelines: ['p'] }).isGlob).toBe(true);
    expect(compileSubscription({ image: 'r.io/*/a', pipelines: ['p'] }).isGlob).toBe(true);
    expect(compileSubscription({ image: 'r.io/a', pipelines: ['p'] }).isGlob).toBe(false);
  });

  it('gives the literal prefix of a glob (what the poll lists under), and the whole image when it has no wildcard', () => {
    expect(globPrefix('registry.example.com/backends/*')).toBe('registry.example.com/backends/');
    expect(globPrefix('registry.example.com/team?/app')).toBe('registry.example.com/team');
    expect(globPrefix('registry.example.com/app')).toBe('registry.example.com/app');
    expect(globPrefix('*/app')).toBe('');
  });

  it.each([
    ['left out', undefined],
    ['left empty in YAML (null)', null],
    ['an empty string', ''],
  ])('accepts every tag when tags is %s', (_name, tags) => {
    const table = new SubscriptionTable([{ image: 'r.io/app', tags: tags as string | undefined, pipelines: ['p'] }]);
    for (const tag of ['1.0', 'latest', 'null', 'undefined'])
      expect(table.pipelinesFor(push('app', tag, 'r.io'))).toEqual(['p']);
    expect(
      compileSubscription({ image: 'r.io/app', tags: tags as string | undefined, pipelines: ['p'] }).tags,
    ).toBeUndefined();
  });

  it('filters pushes by the tag regex through the table', () => {
    const table = new SubscriptionTable([{ image: 'r.io/app', tags: '^v', pipelines: ['p'] }]);
    expect(table.pipelinesFor(push('app', 'v1', 'r.io'))).toEqual(['p']);
    expect(table.pipelinesFor(push('app', '1', 'r.io'))).toEqual([]);
  });

  it('lists every pipeline once across overlapping subscriptions, in config order', () => {
    const table = new SubscriptionTable([
      { image: 'registry.example.com/backends/*', pipelines: ['all-backends', 'audit'] },
      { image: 'registry.example.com/backends/database-x', tags: '^1\\.', pipelines: ['deploy-db', 'audit'] },
      { image: 'registry.example.com/backends/database-x', tags: '^2\\.', pipelines: ['never'] },
    ]);
    expect(table.pipelinesFor(push('backends/database-x', '1.4.0'))).toEqual(['all-backends', 'audit', 'deploy-db']);
    expect(table.subscriptions.map((s) => s.isGlob)).toEqual([true, false, false]);
  });
});

describe('material environment variables', () => {
  it("names the material as DESIGN.md's example does", () => {
    expect(materialName('docker', 'backends/database-x')).toBe('DOCKER_BACKENDS_DATABASE_X');
    expect(materialName('ecr-prod', 'team/app.v2')).toBe('ECR_PROD_TEAM_APP_V2');
  });

  it('gives the four poller variables: label = tag, image = repository, registry name = host, digest', () => {
    expect(
      materialEnv({
        registry: 'docker',
        host: 'registry.example.com',
        repository: 'backends/database-x',
        tag: '1.2.3',
        digest: 'sha256:abc',
      }),
    ).toEqual([
      { name: 'GO_PACKAGE_DOCKER_BACKENDS_DATABASE_X_LABEL', value: '1.2.3', secure: false },
      { name: 'GO_PACKAGE_DOCKER_BACKENDS_DATABASE_X_DOCKER_IMAGE', value: 'backends/database-x', secure: false },
      { name: 'GO_REPO_DOCKER_BACKENDS_DATABASE_X_DOCKER_REGISTRY_NAME', value: 'registry.example.com', secure: false },
      { name: 'GO_PACKAGE_DOCKER_BACKENDS_DATABASE_X_DIGEST', value: 'sha256:abc', secure: false },
    ]);
    expect(materialVariableNames('docker', 'backends/database-x')).toHaveLength(4);
  });

  it('sends an empty digest when the push had none, so the declared set never changes', () => {
    const env = materialEnv({ registry: 'hub', host: 'docker.io', repository: 'library/x', tag: 'latest' });
    expect(env.at(-1)).toEqual({ name: 'GO_PACKAGE_HUB_LIBRARY_X_DIGEST', value: '', secure: false });
  });
});
