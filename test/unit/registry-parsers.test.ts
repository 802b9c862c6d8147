import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import type { ParseResult } from '../../src/registry/image-pushed.js';
import { PARSERS } from '../../src/registry/parsers/registry-parsers.js';
import { contentId } from '../../src/registry/parsers/shape.js';
import { registryEntry, registryFixture, registryFixtureText } from '../support/registry-fixtures.js';

// biome-ignore lint/suspicious/noExplicitAny: tests derive variants by reaching deep into verbatim payloads
type Json = Record<string, any>;

function parse(
  type: keyof typeof PARSERS,
  body: unknown,
  options: { headers?: Json; raw?: string; entry?: Json } = {},
): ParseResult {
  const raw = options.raw ?? JSON.stringify(body) ?? '';
  return PARSERS[type]({
    body,
    headers: options.headers ?? {},
    rawBody: Buffer.from(raw),
    registry: registryEntry(type, options.entry),
  });
}

function parseError(type: keyof typeof PARSERS, body: unknown, headers: Json = {}): ValidationError {
  try {
    parse(type, body, { headers });
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('distribution parser (Docker Registry 2.8 / distribution 3 / GitLab)', () => {
  it('turns a captured tagged index push into one push with the index digest and the event id', () => {
    const { pushes, ignored } = parse('distribution', registryFixture('distribution-index-push.json'), {
      entry: { name: 'docker', host: 'registry.example.com' },
    });
    expect(ignored).toEqual([]);
    expect(pushes).toEqual([
      {
        registry: 'docker',
        host: 'registry.example.com',
        repository: 'team/app',
        tag: '1.0.0',
        digest: 'sha256:c4430c4217fe4cf0a322f1aa32c3d2d1eed1b2055de33808881f9b7f874c3a74',
        mediaType: 'application/vnd.oci.image.index.v1+json',
        deliveryId: '39af35c9-4f1b-4ffd-8aa6-b69ae75c6573',
      },
    ]);
  });

  it('takes the host from the registry entry, never from request.host or target.url', () => {
    const { pushes } = parse('distribution', registryFixture('distribution-manifest-push.json'), {
      entry: { host: 'registry.internal:5000' },
    });
    expect(pushes[0]).toMatchObject({
      host: 'registry.internal:5000',
      repository: 'backends/database-x',
      tag: '1.2.3',
    });
  });

  it.each([
    ['distribution-blob-push.json', 'push of application/octet-stream (not a manifest)'],
    ['distribution-run1-blob-push.json', 'push of application/octet-stream (not a manifest)'],
    ['distribution-untagged-manifest-push.json', 'untagged manifest push'],
    ['distribution-mount.json', 'mount event'],
    ['distribution-delete.json', 'delete event'],
  ])('ignores %s (%s)', (file, reason) => {
    expect(parse('distribution', registryFixture(file))).toEqual({ pushes: [], ignored: [reason] });
  });

  it('ignores a pull of a tag (a HEAD by a poller)', () => {
    const body = registryFixture<Json>('distribution-index-push.json');
    body.events[0].action = 'pull'; // derived: HEAD /v2/team/app/manifests/1.0.0 emits this shape
    expect(parse('distribution', body)).toEqual({ pushes: [], ignored: ['pull event'] });
  });

  it("accepts GitLab's fork, which adds actor.user_type, actor.user and meta", () => {
    const body = registryFixture<Json>('distribution-index-push.json');
    body.events[0].actor = { name: 'root', user_type: 'personal_access_token', user: 'eyJhbGciOi…' };
    body.events[0].meta = { project_id: 7, namespace_id: 3 };
    expect(parse('distribution', body).pushes).toHaveLength(1);
  });

  it('parses every event of an envelope carrying several', () => {
    const index = registryFixture<Json>('distribution-index-push.json').events[0];
    const blob = registryFixture<Json>('distribution-run1-blob-push.json').events[0];
    const retag = { ...structuredClone(index), id: 'retag-id', target: { ...index.target, tag: 'latest' } };
    const { pushes, ignored } = parse('distribution', { events: [blob, index, retag] });
    expect(pushes.map((p) => `${p.tag}@${p.deliveryId}`)).toEqual([
      '1.0.0@39af35c9-4f1b-4ffd-8aa6-b69ae75c6573',
      'latest@retag-id',
    ]);
    expect(ignored).toHaveLength(1);
  });

  it('refuses a body that is not an events envelope, naming the field', () => {
    expect(parseError('distribution', {}).message).toContain('body/events');
    expect(parseError('distribution', { events: [{ action: 'push' }] }).message).toContain('body/events/0/id');
    expect(parseError('distribution', undefined).message).toContain('body is required');
  });

  it('refuses a tagged push whose repository or tag breaks the OCI grammar (they end up in URLs)', () => {
    const body = registryFixture<Json>('distribution-index-push.json');
    body.events[0].target.repository = '../../v2/_catalog?x=';
    expect(parseError('distribution', body).message).toContain('is not a repository name');
    const tag = registryFixture<Json>('distribution-index-push.json');
    tag.events[0].target.tag = 'bad tag';
    expect(parseError('distribution', tag).message).toContain('is not a tag');
  });
});

describe('ecr parser (EventBridge "ECR Image Action")', () => {
  const host = '123456789012.dkr.ecr.us-west-2.amazonaws.com';

  it("turns AWS's push sample into a push on the configured host, with the envelope id", () => {
    expect(parse('ecr', registryFixture('ecr-image-push.json'), { entry: { name: 'ecr', host } }).pushes).toEqual([
      {
        registry: 'ecr',
        host,
        repository: 'my-repository-name',
        tag: 'latest',
        digest: 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234',
        mediaType: undefined,
        deliveryId: '13cde686-328b-6117-af20-0e5566167482',
      },
    ]);
  });

  it('ignores the untagged child manifest of a multi-arch push (image-tag "")', () => {
    const body = registryFixture<Json>('ecr-image-push.json');
    // derived: the envelope of AWS's sample around the detail of a real captured untagged child push
    body.detail = {
      result: 'SUCCESS',
      'repository-name': 'nudgebee_runbook_sidecar_agent',
      'image-digest': 'sha256:778645862e8bba7ad64eabc8f6b51158e47124c12864ed42d7baf744b6329542',
      'action-type': 'PUSH',
      'artifact-media-type': 'application/vnd.oci.image.config.v1+json',
      'image-tag': '',
      'manifest-media-type': 'application/vnd.oci.image.manifest.v1+json',
    };
    expect(parse('ecr', body, { entry: { host } })).toEqual({ pushes: [], ignored: ['untagged manifest push'] });
  });

  it('treats a successful replication as a push into the destination region', () => {
    const { pushes } = parse('ecr', registryFixture('ecr-replication.json'), {
      entry: { host: '123456789012.dkr.ecr.us-east-1.amazonaws.com' },
    });
    expect(pushes).toMatchObject([{ repository: 'docker-hub/alpine', tag: '3.17.2' }]);
  });

  it("ignores deletes, failures and another account's or region's events", () => {
    const del = registryFixture<Json>('ecr-image-push.json');
    del.detail['action-type'] = 'DELETE';
    expect(parse('ecr', del, { entry: { host } }).ignored).toEqual(['ECR Image Action DELETE']);
    const failed = registryFixture<Json>('ecr-image-push.json');
    failed.detail.result = 'FAILED';
    expect(parse('ecr', failed, { entry: { host } }).ignored).toEqual(['PUSH result FAILED']);
    const other = parse('ecr', registryFixture('ecr-image-push.json'), {
      entry: { host: '999999999999.dkr.ecr.us-west-2.amazonaws.com' },
    });
    expect(other.pushes).toEqual([]);
    expect(other.ignored[0]).toContain('account 123456789012');
  });

  it('refuses an envelope without detail', () => {
    const body = registryFixture<Json>('ecr-image-push.json');
    delete body.detail;
    expect(parseError('ecr', body).message).toContain('body/detail');
  });
});

describe('dockerhub parser', () => {
  it("turns the docs' payload into a digest-less hint without a delivery id (pushed_at repeats, it identifies nothing)", () => {
    expect(parse('dockerhub', registryFixture('dockerhub-push.json'), { entry: { host: 'docker.io' } }).pushes).toEqual(
      [
        {
          registry: 'dockerhub',
          host: 'docker.io',
          repository: 'svendowideit/testhook',
          tag: 'latest',
        },
      ],
    );
  });

  it('refuses a body without push_data', () => {
    const body = registryFixture<Json>('dockerhub-push.json');
    delete body.push_data;
    expect(parseError('dockerhub', body).message).toContain('body/push_data');
  });
});

describe('harbor parser (default and CloudEvents formats)', () => {
  it('turns the default-format PUSH_ARTIFACT into a push on the configured host (not resource_url)', () => {
    const raw = registryFixtureText('harbor-push-default.json');
    const { pushes } = parse('harbor', JSON.parse(raw), { raw, entry: { host: 'harbor.example.com' } });
    expect(pushes).toMatchObject([
      {
        host: 'harbor.example.com',
        repository: 'test-webhook/debian',
        tag: 'latest',
        digest: 'sha256:8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8',
      },
    ]);
    // No id in this format: a redelivery of the same bytes gets the same id.
    expect(pushes[0]!.deliveryId).toBe(parse('harbor', JSON.parse(raw), { raw }).pushes[0]!.deliveryId);
  });

  it('ignores the CloudEvents pull sample', () => {
    expect(parse('harbor', registryFixture('harbor-pull-cloudevents.json'))).toEqual({
      pushes: [],
      ignored: ['harbor.artifact.pulled event'],
    });
  });

  it('ignores a push whose "tag" is the digest (Harbor does that for untagged pushes)', () => {
    const body = registryFixture<Json>('harbor-pull-cloudevents.json');
    body.type = 'harbor.artifact.pushed'; // derived from the verbatim pull sample
    expect(parse('harbor', body)).toEqual({ pushes: [], ignored: ['untagged artifact push'] });
  });

  it('takes a tagged CloudEvents push with the event id', () => {
    const body = registryFixture<Json>('harbor-pull-cloudevents.json');
    body.type = 'harbor.artifact.pushed';
    body.data.resources[0].tag = '1.36'; // derived
    expect(parse('harbor', body).pushes).toMatchObject([
      { repository: 'library/busybox', tag: '1.36', deliveryId: '4b2f89a6-548d-4c12-9993-a1f5790b97d2#1.36' },
    ]);
  });

  it('ignores other event types and refuses a default-format body without event_data', () => {
    const scan = registryFixture<Json>('harbor-push-default.json');
    scan.type = 'SCANNING_COMPLETED';
    expect(parse('harbor', scan).ignored).toEqual(['SCANNING_COMPLETED event']);
    const bad = registryFixture<Json>('harbor-push-default.json');
    delete bad.event_data;
    expect(parseError('harbor', bad).message).toContain('body/event_data');
  });
});

describe('github parser (package / registry_package)', () => {
  const headers = { 'x-github-event': 'package', 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' };

  it.each([
    ['github-package-published.json', 'package'],
    ['github-registry-package-published.json', 'registry_package'],
  ])('ignores the verbatim %s, an untagged manifest (tag.name "")', (file, event) => {
    expect(parse('github', registryFixture(file), { headers: { 'x-github-event': event } })).toEqual({
      pushes: [],
      ignored: ['untagged manifest push'],
    });
  });

  it('turns a tagged package event into a lower-cased owner/name push with the manifest digest', () => {
    const body = registryFixture<Json>('github-package-published.json');
    body.package.package_version.container_metadata.tag.name = 'nightly'; // derived: the tagged event of a push
    expect(parse('github', body, { headers, entry: { host: 'ghcr.io' } }).pushes).toEqual([
      {
        registry: 'github',
        host: 'ghcr.io',
        repository: 'codertocat/hello-world-npm',
        tag: 'nightly',
        digest: 'sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b',
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        deliveryId: contentId({ body, rawBody: Buffer.from(JSON.stringify(body)) }),
      },
    ]);
  });

  it('takes the delivery id from the signed body, never from the unsigned X-GitHub-Delivery header', () => {
    const body = registryFixture<Json>('github-package-published.json');
    body.package.package_version.container_metadata.tag.name = 'nightly';
    const raw = JSON.stringify(body);
    const ids = ['a', 'b', 'c'].map(
      (d) => parse('github', body, { raw, headers: { ...headers, 'x-github-delivery': d } }).pushes[0]!.deliveryId,
    );
    expect(new Set(ids).size).toBe(1);
    const other = parse('github', body, { raw: `${raw} `, headers }).pushes[0]!.deliveryId;
    expect(other).not.toBe(ids[0]);
  });

  it('reads the older registry_package body the same way', () => {
    const body = registryFixture<Json>('github-registry-package-published.json');
    body.registry_package.package_version.container_metadata.tag.name = 'v1.2.0';
    const { pushes } = parse('github', body, { headers: { 'x-github-event': 'registry_package' } });
    expect(pushes).toMatchObject([{ repository: 'codertocat/hello-world-npm', tag: 'v1.2.0' }]);
  });

  it('ignores pings, other events and non-container packages', () => {
    expect(
      parse('github', { zen: 'Keep it logically awesome.', hook_id: 1 }, { headers: { 'x-github-event': 'ping' } })
        .ignored,
    ).toEqual(['ping event']);
    const npm = registryFixture<Json>('github-package-published.json');
    delete npm.package.package_version.container_metadata;
    npm.package.ecosystem = 'npm';
    expect(parse('github', npm, { headers }).ignored).toEqual(['npm package']);
  });

  it('refuses a package event without an owner', () => {
    const body = registryFixture<Json>('github-package-published.json');
    delete body.package.owner;
    expect(parseError('github', body, headers).message).toContain('body/package/owner');
  });
});

describe('quay parser', () => {
  it("turns the docs' repository push into a digest-less hint per updated tag", () => {
    const { pushes } = parse('quay', registryFixture('quay-push.json'), { entry: { host: 'quay.io' } });
    expect(pushes).toMatchObject([{ host: 'quay.io', repository: 'dgangaia/test', tag: 'latest' }]);
    expect(pushes[0]!.digest).toBeUndefined();
  });

  it('reads the old tag → image map form, with no delivery id (Quay repeats its bytes for every push of a tag)', () => {
    const body = registryFixture<Json>('quay-push.json');
    body.updated_tags = { latest: 'b1946ac92492', '1.0': 'b1946ac92492' }; // derived: Quay's 2013 format
    const { pushes } = parse('quay', body);
    expect(pushes.map((p) => p.tag)).toEqual(['latest', '1.0']);
    expect(pushes.map((p) => p.deliveryId)).toEqual([undefined, undefined]);
  });

  it("returns Quay's test notification as a test, never as a push", () => {
    const result = parse('quay', registryFixture('quay-test-notification.json'), { entry: { host: 'quay.io' } });
    expect(result.pushes).toEqual([]);
    expect(result.tests?.map((p) => p.tag)).toEqual(['latest', 'foo']);
    // The 2017 format also sent pruned_image_count, but with a tag map and pushed_image_count: a real push.
    expect(parse('quay', registryFixture('quay-push-legacy-2017.json')).pushes.map((p) => p.tag)).toEqual(['latest']);
  });

  it('ignores notifications without updated_tags and refuses one without repository', () => {
    expect(parse('quay', { repository: 'dgangaia/test', name: 'repository' }).ignored).toEqual([
      'notification without updated_tags',
    ]);
    expect(parseError('quay', { updated_tags: ['x'] }).message).toContain('body/repository');
  });
});

describe('artifactory parser', () => {
  it('turns a docker "pushed" event into <repo_key>/<image_name> with the sha256: digest', () => {
    expect(
      parse('artifactory', registryFixture('artifactory-docker-pushed.json'), { entry: { host: 'example.jfrog.io' } })
        .pushes,
    ).toMatchObject([
      {
        host: 'example.jfrog.io',
        repository: 'docker-remote-cache/library/ubuntu',
        tag: 'latest',
        digest: 'sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce',
      },
    ]);
  });

  it('ignores deletes and promotions', () => {
    const body = registryFixture<Json>('artifactory-docker-pushed.json');
    body.event_type = 'deleted';
    expect(parse('artifactory', body).ignored).toEqual(['docker deleted event']);
  });
});
