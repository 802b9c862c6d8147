import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import type { ParseResult } from '../../src/registry/image-pushed.js';
import { ecrHost } from '../../src/registry/parsers/ecr.parser.js';
import { PARSERS } from '../../src/registry/parsers/registry-parsers.js';
import { contentId } from '../../src/registry/parsers/shape.js';
import { registryEntry, registryFixture } from '../support/registry-fixtures.js';

// Each parser rule, shown from both sides: what it accepts and what it ignores. Bodies are the verbatim fixtures of
// test/fixtures/registry/ (SOURCES.md), with the one field a case is about changed.

// biome-ignore lint/suspicious/noExplicitAny: tests derive variants by reaching deep into verbatim payloads
type Json = Record<string, any>;

function parse(type: keyof typeof PARSERS, body: unknown, headers: Json = {}, entry: Json = {}): ParseResult {
  return PARSERS[type]({
    body,
    headers,
    rawBody: Buffer.from(JSON.stringify(body) ?? ''),
    registry: registryEntry(type, entry),
  });
}

describe('delivery ids of signed bodies (GitHub)', () => {
  it('gives two different bodies two different ids, and the same bytes the same id', () => {
    const a = contentId({ body: {}, rawBody: Buffer.from('{"tag":"1"}') });
    const b = contentId({ body: {}, rawBody: Buffer.from('{"tag":"2"}') });
    expect(a).not.toBe(b);
    expect(contentId({ body: {}, rawBody: Buffer.from('{"tag":"1"}') })).toBe(a);
    expect(a).toMatch(/^sha256-[0-9a-f]{32}$/);
  });

  it('hashes the JSON of the body when there are no raw bytes', () => {
    expect(contentId({ body: { tag: '1' } })).toBe(contentId({ body: {}, rawBody: Buffer.from('{"tag":"1"}') }));
    expect(contentId({ body: { tag: '1' } })).not.toBe(contentId({ body: { tag: '2' } }));
  });

  it('gives two pushes of two tags two delivery ids', () => {
    const ids = ['v1', 'v2'].map((tag) => {
      const body = registryFixture<Json>('github-package-published.json');
      body.package.package_version.container_metadata.tag.name = tag;
      return parse('github', body, { 'x-github-event': 'package' }).pushes[0]!.deliveryId;
    });
    expect(ids[0]).not.toBe(ids[1]);
  });
});

describe('github parser rules', () => {
  const tagged = (action: string) => {
    const body = registryFixture<Json>('github-package-published.json');
    body.action = action;
    body.package.package_version.container_metadata.tag.name = 'v1';
    return body;
  };

  it('turns an `updated` package event (a tag moved to a new version) into a push', () => {
    expect(parse('github', tagged('updated'), { 'x-github-event': 'package' }).pushes).toMatchObject([
      { repository: 'codertocat/hello-world-npm', tag: 'v1' },
    ]);
  });

  it('ignores other actions, naming them', () => {
    expect(parse('github', tagged('deleted'), { 'x-github-event': 'package' })).toEqual({
      pushes: [],
      ignored: ['package deleted'],
    });
  });

  it('finds the event in the body when the X-GitHub-Event header is missing', () => {
    expect(parse('github', tagged('published')).pushes).toMatchObject([{ tag: 'v1' }]);
    const older = registryFixture<Json>('github-registry-package-published.json');
    older.registry_package.package_version.container_metadata.tag.name = 'v2';
    expect(parse('github', older).pushes).toMatchObject([{ tag: 'v2' }]);
  });

  it('refuses a body without the header and without a package, naming the header', () => {
    expect(() => parse('github', { zen: 'x' })).toThrow(/X-GitHub-Event/);
    expect(() => parse('github', undefined)).toThrow(/X-GitHub-Event/);
  });

  it('refuses an empty body under another event header rather than ignoring it', () => {
    expect(() => parse('github', null, { 'x-github-event': 'ping' })).toThrow(/body is required/);
  });

  it('takes a package as a container by its package_type, then by its ecosystem', () => {
    const byType = tagged('published');
    delete byType.package.package_version.container_metadata;
    byType.package.package_type = 'CONTAINER';
    expect(parse('github', byType, { 'x-github-event': 'package' }).ignored).toEqual(['untagged manifest push']);
    const byEcosystem = tagged('published');
    delete byEcosystem.package.package_version.container_metadata;
    byEcosystem.package.package_type = null;
    byEcosystem.package.ecosystem = 'docker';
    expect(parse('github', byEcosystem, { 'x-github-event': 'package' }).ignored).toEqual(['untagged manifest push']);
    const npmTyped = tagged('published');
    delete npmTyped.package.package_version.container_metadata;
    npmTyped.package.package_type = 'npm';
    npmTyped.package.ecosystem = 'docker';
    expect(parse('github', npmTyped, { 'x-github-event': 'package' }).ignored).toEqual(['npm package']);
  });

  it('names an unknown package type when neither package_type nor ecosystem is given', () => {
    const body = tagged('published');
    delete body.package.package_version.container_metadata;
    delete body.package.package_type;
    delete body.package.ecosystem;
    expect(parse('github', body, { 'x-github-event': 'package' }).ignored).toEqual(['unknown package']);
  });

  it("takes the tag's digest when the manifest has none, and leaves digest and media type out when blank", () => {
    const body = tagged('published');
    const meta = body.package.package_version.container_metadata;
    meta.manifest = { digest: '', media_type: '' };
    meta.tag.digest = `sha256:${'a'.repeat(64)}`;
    expect(parse('github', body, { 'x-github-event': 'package' }).pushes[0]).toMatchObject({
      digest: `sha256:${'a'.repeat(64)}`,
      mediaType: undefined,
    });
    meta.tag.digest = '';
    expect(parse('github', body, { 'x-github-event': 'package' }).pushes[0]!.digest).toBeUndefined();
  });
});

describe('ecr parser rules', () => {
  const host = '123456789012.dkr.ecr.us-west-2.amazonaws.com';

  it('accepts an event of the configured account and region', () => {
    expect(parse('ecr', registryFixture('ecr-image-push.json'), {}, { host }).pushes).toHaveLength(1);
  });

  it("ignores the configured account's event from another region", () => {
    const result = parse(
      'ecr',
      registryFixture('ecr-image-push.json'),
      {},
      {
        host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      },
    );
    expect(result).toEqual({
      pushes: [],
      ignored: ['event for account 123456789012 in us-west-2, not 123456789012.dkr.ecr.eu-west-1.amazonaws.com'],
    });
  });

  it('takes events of any account when the host is not an ECR host (a pull-through name)', () => {
    expect(parse('ecr', registryFixture('ecr-image-push.json'), {}, { host: 'ecr.example.com' }).pushes).toHaveLength(
      1,
    );
  });

  it('ignores events that are not from aws.ecr, naming the source', () => {
    const body = registryFixture<Json>('ecr-image-push.json');
    body.source = 'aws.s3';
    expect(parse('ecr', body, {}, { host }).ignored).toEqual(['source aws.s3']);
  });

  it('ignores a replication that is not REPLICATE and a push that is not an Image Action', () => {
    const replica = registryFixture<Json>('ecr-replication.json');
    replica.detail['action-type'] = 'PUSH';
    expect(parse('ecr', replica, {}, { host: '123456789012.dkr.ecr.us-east-1.amazonaws.com' }).ignored).toEqual([
      'ECR Replication Action PUSH',
    ]);
    const scan = registryFixture<Json>('ecr-image-push.json');
    scan['detail-type'] = 'ECR Image Scan';
    delete scan.detail['action-type'];
    expect(parse('ecr', scan, {}, { host }).ignored).toEqual(['ECR Image Scan']);
  });

  it('names a missing result', () => {
    const body = registryFixture<Json>('ecr-image-push.json');
    delete body.detail.result;
    expect(parse('ecr', body, {}, { host }).ignored).toEqual(['PUSH result missing']);
  });

  it('carries the manifest media type', () => {
    const body = registryFixture<Json>('ecr-image-push.json');
    body.detail['manifest-media-type'] = 'application/vnd.oci.image.index.v1+json';
    expect(parse('ecr', body, {}, { host }).pushes[0]!.mediaType).toBe('application/vnd.oci.image.index.v1+json');
  });
});

describe('harbor parser rules', () => {
  it('takes Harbor 1.x pushImage events as pushes', () => {
    const body = registryFixture<Json>('harbor-push-default.json');
    body.type = 'pushImage';
    expect(parse('harbor', body).pushes).toMatchObject([{ repository: 'test-webhook/debian', tag: 'latest' }]);
  });

  it('takes the default format PUSH_ARTIFACT without a delivery id (pushes are identified by what was pushed)', () => {
    const [push] = parse('harbor', registryFixture('harbor-push-default.json')).pushes;
    expect(push).not.toHaveProperty('deliveryId');
  });

  it('gives one push per tag when a body lists a tag twice, and one per distinct tag', () => {
    const body = registryFixture<Json>('harbor-push-default.json');
    const r = body.event_data.resources[0];
    body.event_data.resources = [r, { ...r }, { ...r, tag: 'v2' }];
    expect(parse('harbor', body).pushes.map((p) => p.tag)).toEqual(['latest', 'v2']);
  });

  it('ignores a resource without a tag and still takes the tagged ones', () => {
    const body = registryFixture<Json>('harbor-push-default.json');
    const r = body.event_data.resources[0];
    body.event_data.resources = [{ digest: r.digest }, r];
    expect(parse('harbor', body)).toMatchObject({ pushes: [{ tag: 'latest' }], ignored: ['untagged artifact push'] });
  });

  it('ignores a push that lists no resources, saying so', () => {
    const body = registryFixture<Json>('harbor-push-default.json');
    body.event_data.resources = [];
    expect(parse('harbor', body)).toEqual({ pushes: [], ignored: ['push without resources'] });
    delete body.event_data.resources;
    expect(parse('harbor', body)).toEqual({ pushes: [], ignored: ['push without resources'] });
  });

  it('names the resource whose tag breaks the grammar', () => {
    const body = registryFixture<Json>('harbor-push-default.json');
    const r = body.event_data.resources[0];
    body.event_data.resources = [r, { ...r, tag: 'bad tag' }];
    expect(() => parse('harbor', body)).toThrow('body/event_data/resources/1 tag');
  });
});

describe('dockerhub parser rules', () => {
  it('takes repository and tag, with no digest and no delivery id', () => {
    expect(parse('dockerhub', registryFixture('dockerhub-push.json'), {}, { host: 'docker.io' }).pushes).toEqual([
      { registry: 'dockerhub', host: 'docker.io', repository: 'svendowideit/testhook', tag: 'latest' },
    ]);
  });

  it('ignores a push without a tag', () => {
    const body = registryFixture<Json>('dockerhub-push.json');
    body.push_data.tag = '';
    expect(parse('dockerhub', body)).toEqual({ pushes: [], ignored: ['push without tag'] });
  });
});

describe('quay parser rules', () => {
  it('gives one push per distinct tag, in order', () => {
    const body = registryFixture<Json>('quay-push.json');
    body.updated_tags = ['1.0', 'latest', '1.0'];
    expect(parse('quay', body).pushes.map((p) => p.tag)).toEqual(['1.0', 'latest']);
  });

  it.each([
    ['three tags', { updated_tags: ['latest', 'foo', 'bar'], pruned_image_count: 3 }],
    ['tags in another order', { updated_tags: ['foo', 'latest'], pruned_image_count: 3 }],
    ['another first tag', { updated_tags: ['v1', 'foo'], pruned_image_count: 3 }],
    ['another second tag', { updated_tags: ['latest', 'v1'], pruned_image_count: 3 }],
    ['another pruned count', { updated_tags: ['latest', 'foo'], pruned_image_count: 2 }],
    ['no pruned count', { updated_tags: ['latest', 'foo'] }],
    [
      'a pushed count (the 2017 format)',
      { updated_tags: ['latest', 'foo'], pruned_image_count: 3, pushed_image_count: 1 },
    ],
  ])('takes a push that only looks like the test notification (%s) as a push', (_name, fields) => {
    const body = { ...registryFixture<Json>('quay-push.json'), ...fields };
    const result = parse('quay', body);
    expect(result.tests).toBeUndefined();
    expect(result.pushes.length).toBe(fields.updated_tags.length);
  });

  it('names the tag that breaks the grammar by its index', () => {
    const body = registryFixture<Json>('quay-push.json');
    body.updated_tags = ['ok', 'bad tag'];
    expect(() => parse('quay', body)).toThrow('body/updated_tags/1 tag');
  });
});

describe('artifactory parser rules', () => {
  it('reads the flat docker body the same as the wrapped one', () => {
    expect(parse('artifactory', registryFixture('artifactory-docker-pushed-flat.json')).pushes).toEqual([
      {
        registry: 'artifactory',
        host: 'artifactory.example.com',
        repository: 'docker-remote-cache/library/ubuntu',
        tag: 'latest',
        digest: 'sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce',
      },
    ]);
  });

  it('ignores a push without a tag, and leaves the digest out when sha256 is missing', () => {
    const body = registryFixture<Json>('artifactory-docker-pushed.json');
    const { tag: _tag, ...untagged } = body.data;
    expect(parse('artifactory', { ...body, data: untagged })).toEqual({ pushes: [], ignored: ['push without tag'] });
    delete body.data.sha256;
    expect(parse('artifactory', body).pushes[0]!.digest).toBeUndefined();
  });

  it('ignores events of other domains, naming domain and event', () => {
    const body = registryFixture<Json>('artifactory-docker-pushed.json');
    body.domain = 'artifact';
    expect(parse('artifactory', body).ignored).toEqual(['artifact pushed event']);
  });

  it('treats a wrapped body without data as a push without tag, and names wrapped paths under body/data', () => {
    const body = registryFixture<Json>('artifactory-docker-pushed.json');
    delete body.data;
    expect(parse('artifactory', body)).toEqual({ pushes: [], ignored: ['push without tag'] });
    const bad = registryFixture<Json>('artifactory-docker-pushed.json');
    bad.data.tag = 'bad tag';
    expect(() => parse('artifactory', bad)).toThrow('body/data tag');
    const flat = registryFixture<Json>('artifactory-docker-pushed-flat.json');
    flat.tag = 'bad tag';
    expect(() => parse('artifactory', flat)).toThrow(/^body tag/);
  });

  it('uses the image name alone when repo_key is missing', () => {
    const flat = registryFixture<Json>('artifactory-docker-pushed-flat.json');
    delete flat.repo_key;
    expect(parse('artifactory', flat).pushes[0]!.repository).toBe('library/ubuntu');
  });
});

/** The ValidationError a parser throws for `body`, or a failure when it throws anything else or nothing. */
function refusal(type: keyof typeof PARSERS, body: unknown, headers: Json = {}, entry: Json = {}): ValidationError {
  try {
    parse(type, body, headers, entry);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('payload references (shared by every parser)', () => {
  const distribution = (target: Json) => {
    const body = registryFixture<Json>('distribution-manifest-push.json');
    Object.assign(body.events[0].target, target);
    return body;
  };

  it('refuses a missing body as required, naming the registry type', () => {
    const err = refusal('distribution', null);
    expect(err.message).toBe('distribution event: body is required');
    expect(err.details).toEqual([{ path: 'body', message: 'is required' }]);
  });

  it('names the repository, tag and digest that break the grammar, each at its path', () => {
    const err = refusal('distribution', distribution({ repository: 'Bad Repo', tag: '-x', digest: 'sha256:' }));
    expect(err.details).toEqual([
      { path: 'body/events/0/target repository', message: "'Bad Repo' is not a repository name" },
      { path: 'body/events/0/target tag', message: "'-x' is not a tag" },
      { path: 'body/events/0/target digest', message: "'sha256:' is not a digest" },
    ]);
    expect(err.message).toBe(
      "body/events/0/target repository: 'Bad Repo' is not a repository name; body/events/0/target tag: '-x' is not a tag; body/events/0/target digest: 'sha256:' is not a digest",
    );
  });

  it('takes a push without a digest, and one with a well-formed digest', () => {
    const { digest: _d, ...noDigest } = registryFixture<Json>('distribution-manifest-push.json').events[0].target;
    const body = registryFixture<Json>('distribution-manifest-push.json');
    body.events[0].target = noDigest;
    expect(parse('distribution', body).pushes[0]!.digest).toBeUndefined();
  });

  it('quotes at most 80 characters of a bad value', () => {
    const at80 = `A${'a'.repeat(79)}`;
    expect(refusal('distribution', distribution({ repository: at80 })).details).toEqual([
      { path: 'body/events/0/target repository', message: `'${at80}' is not a repository name` },
    ]);
    expect(refusal('distribution', distribution({ repository: `${at80}b` })).details).toEqual([
      { path: 'body/events/0/target repository', message: `'${at80}…' is not a repository name` },
    ]);
  });

  it('names a missing repository as empty', () => {
    const { repository: _r, ...target } = registryFixture<Json>('distribution-manifest-push.json').events[0].target;
    const body = registryFixture<Json>('distribution-manifest-push.json');
    body.events[0].target = target;
    expect(refusal('distribution', body).message).toBe("body/events/0/target repository: '' is not a repository name");
  });

  it('names what a distribution push of something else was', () => {
    expect(parse('distribution', distribution({ mediaType: undefined })).ignored).toEqual([
      'push of unknown media type (not a manifest)',
    ]);
    expect(parse('distribution', distribution({ mediaType: 'application/octet-stream' })).ignored).toEqual([
      'push of application/octet-stream (not a manifest)',
    ]);
  });

  it('names the path of a bad reference in the other formats', () => {
    const hub = registryFixture<Json>('dockerhub-push.json');
    hub.push_data.tag = 'bad tag';
    expect(refusal('dockerhub', hub).message).toBe("body tag: 'bad tag' is not a tag");
    const ecr = registryFixture<Json>('ecr-image-push.json');
    ecr.detail['image-tag'] = 'bad tag';
    expect(refusal('ecr', ecr, {}, { host: 'ecr.example.com' }).message).toBe(
      "body/detail tag: 'bad tag' is not a tag",
    );
    delete ecr.detail['repository-name'];
    ecr.detail['image-tag'] = 'ok';
    expect(refusal('ecr', ecr, {}, { host: 'ecr.example.com' }).message).toBe(
      "body/detail repository: '' is not a repository name",
    );
    const gh = registryFixture<Json>('github-package-published.json');
    gh.package.package_version.container_metadata.tag.name = 'bad tag';
    expect(refusal('github', gh, { 'x-github-event': 'package' }).message).toBe(
      "body/package tag: 'bad tag' is not a tag",
    );
    const harbor = registryFixture<Json>('harbor-pull-cloudevents.json');
    harbor.type = 'harbor.artifact.pushed';
    harbor.data.resources[0].tag = 'bad tag';
    expect(refusal('harbor', harbor).message).toBe("body/data/resources/0 tag: 'bad tag' is not a tag");
    const noRepo = registryFixture<Json>('harbor-push-default.json');
    delete noRepo.event_data.repository;
    expect(refusal('harbor', noRepo).message).toBe(
      "body/event_data/resources/0 repository: '' is not a repository name",
    );
  });
});

describe('bodies that are not objects', () => {
  it.each([null, 'text', 5])('refuses %s as a Harbor body with a ValidationError naming harbor', (body) => {
    expect(refusal('harbor', body).message).toMatch(/^harbor event: /);
  });

  it.each(['text', 5])('refuses %s as a GitHub body without the header, naming the header', (body) => {
    const err = refusal('github', body);
    expect(err.details).toEqual([{ path: 'headers/x-github-event', message: 'is required' }]);
  });

  it('ignores another GitHub event with exactly one item and no push', () => {
    expect(parse('github', { zen: 'z' }, { 'x-github-event': 'ping' })).toEqual({
      pushes: [],
      ignored: ['ping event'],
    });
  });

  it('reads a GitHub container without a manifest: the digest from the tag, no media type', () => {
    const body = registryFixture<Json>('github-package-published.json');
    const meta = body.package.package_version.container_metadata;
    meta.tag = { name: 'v1', digest: `sha256:${'b'.repeat(64)}` };
    delete meta.manifest;
    expect(parse('github', body, { 'x-github-event': 'package' }).pushes[0]).toMatchObject({
      tag: 'v1',
      digest: `sha256:${'b'.repeat(64)}`,
      mediaType: undefined,
    });
  });
});

describe('more ECR and Artifactory rules', () => {
  it('builds the ECR host of an account and region, with .cn in China', () => {
    expect(ecrHost('123456789012', 'eu-west-1')).toBe('123456789012.dkr.ecr.eu-west-1.amazonaws.com');
    expect(ecrHost('123456789012', 'cn-north-1')).toBe('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn');
  });

  it('ignores an Image Action whose action is REPLICATE (only a Replication Action is a replica)', () => {
    const body = registryFixture<Json>('ecr-image-push.json');
    body.detail['action-type'] = 'REPLICATE';
    expect(parse('ecr', body, {}, { host: 'ecr.example.com' }).ignored).toEqual(['ECR Image Action REPLICATE']);
  });

  it('reads a body with data and no domain as wrapped, and one with a domain but no data as an empty push', () => {
    const body = registryFixture<Json>('artifactory-docker-pushed.json');
    delete body.domain;
    expect(parse('artifactory', body).pushes).toMatchObject([{ tag: 'latest' }]);
    const flat = registryFixture<Json>('artifactory-docker-pushed-flat.json');
    expect(parse('artifactory', { ...flat, domain: 'docker' })).toEqual({ pushes: [], ignored: ['push without tag'] });
  });
});
