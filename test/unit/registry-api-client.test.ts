import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeImagesCommand, ECRClient, ImageNotFoundException } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackendUnavailableError } from '../../src/errors.js';
import { EcrImages } from '../../src/registry-api/ecr-images.js';
import { parseChallenge, RegistryApiClient } from '../../src/registry-api/registry-api-client.js';

const DIGEST = 'sha256:c4430c4217fe4cf0a322f1aa32c3d2d1eed1b2055de33808881f9b7f874c3a74';
const USER = 'robot';
const PASS = 'robot-password-0123';

/**
 * A loopback registry speaking the distribution token flow: 401 + `WWW-Authenticate: Bearer realm=…` until a token
 * from its realm is presented; the realm wants Basic credentials; tags/list pages with `Link` headers.
 */
class FakeRegistry {
  readonly requests: { method: string; url: string; auth?: string }[] = [];
  server!: Server;
  url = '';
  tags = ['1.0.0', '1.1.0', 'latest', '2.0.0'];
  linkOverride: string | undefined;

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: import('node:http').ServerResponse) {
    this.requests.push({ method: req.method!, url: req.url!, auth: req.headers.authorization });
    const url = new URL(req.url!, this.url);
    if (url.pathname === '/token') {
      const basic = `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`;
      if (req.headers.authorization !== basic) return void res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ token: `tok:${url.searchParams.get('scope')}`, expires_in: 300 }));
    }
    const m = /^\/v2\/(.+)\/(manifests|tags)\/(.+)$/.exec(url.pathname);
    const repo = m?.[1];
    if (req.headers.authorization !== `Bearer tok:repository:${repo}:pull`) {
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="${this.url}/token",service="fake-registry",scope="repository:${repo}:pull"`,
      });
      return void res.end();
    }
    if (m?.[2] === 'manifests') {
      if (!this.tags.includes(decodeURIComponent(m[3]!))) return void res.writeHead(404).end();
      res.writeHead(200, {
        'docker-content-digest': DIGEST,
        'content-type': 'application/vnd.oci.image.index.v1+json',
      });
      return void res.end();
    }
    const last = url.searchParams.get('last');
    const start = last ? this.tags.indexOf(last) + 1 : 0;
    const page = this.tags.slice(start, start + 2);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (start + 2 < this.tags.length) {
      headers.link = this.linkOverride ?? `</v2/${repo}/tags/list?last=${page.at(-1)}&n=2>; rel="next"`;
    }
    res.writeHead(200, headers);
    res.end(JSON.stringify({ name: repo, tags: page }));
  }
}

let registry: FakeRegistry;
beforeEach(async () => {
  registry = await new FakeRegistry().start();
});
afterEach(async () => {
  await registry.close();
});

const client = () => new RegistryApiClient({ apiUrl: registry.url, username: USER, password: PASS });

describe('registry API v2 client', () => {
  it('resolves a tag with HEAD after the bearer token flow, and reuses the token', async () => {
    const api = client();
    expect(await api.resolve('team/app', '1.0.0')).toEqual({
      digest: DIGEST,
      mediaType: 'application/vnd.oci.image.index.v1+json',
    });
    expect(registry.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([
      'HEAD /v2/team/app/manifests/1.0.0',
      'GET /token',
      'HEAD /v2/team/app/manifests/1.0.0',
    ]);
    expect(registry.requests[1]!.url).toContain('service=fake-registry');
    await api.resolve('team/app', '1.1.0');
    expect(registry.requests).toHaveLength(4);
  });

  it('answers undefined for a tag the registry does not have', async () => {
    expect(await client().resolve('team/app', 'nope')).toBeUndefined();
  });

  it('fails clearly when the token endpoint refuses the credentials', async () => {
    const api = new RegistryApiClient({ apiUrl: registry.url, username: USER, password: 'wrong-password' });
    await expect(api.resolve('team/app', '1.0.0')).rejects.toThrow(/token endpoint answered 401/);
  });

  it('lists tags across pages and reads the digests of those the filter keeps', async () => {
    const { tags, truncated } = await client().listTagDigests('team/app', (t) => /^1\./.test(t), 10);
    expect([...tags]).toEqual([
      ['1.0.0', DIGEST],
      ['1.1.0', DIGEST],
    ]);
    expect(truncated).toBe(false);
  });

  it('does not follow a next-page link to another origin (SSRF)', async () => {
    registry.linkOverride = '<http://169.254.169.254/latest/meta-data?x=1>; rel="next"';
    const { tags } = await client().listTags('team/app');
    expect(tags).toEqual(['1.0.0', '1.1.0']);
    expect(registry.requests.every((r) => !r.url.includes('169.254'))).toBe(true);
  });

  it('reports an unreachable registry as BackendUnavailable', async () => {
    await registry.close();
    const api = new RegistryApiClient({ apiUrl: registry.url, timeoutMs: 2000 });
    await expect(api.resolve('team/app', '1.0.0')).rejects.toBeInstanceOf(BackendUnavailableError);
    registry = await new FakeRegistry().start();
  });

  it('parses Bearer and Basic challenges', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/x:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/x:pull',
      },
    });
    expect(parseChallenge('Basic realm="basic-realm"')).toEqual({ scheme: 'basic', params: { realm: 'basic-realm' } });
    expect(parseChallenge(null)).toBeUndefined();
  });
});

describe('ECR images', () => {
  const ecr = mockClient(ECRClient);
  afterEach(() => ecr.reset());

  it('resolves a tag with DescribeImages in the configured account', async () => {
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [
        {
          imageDigest: DIGEST,
          imageTags: ['1.0.0'],
          imageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
        },
      ],
    });
    const images = new EcrImages(new ECRClient({ region: 'us-west-2' }), '123456789012');
    expect(await images.resolve('team/app', '1.0.0')).toEqual({
      digest: DIGEST,
      mediaType: 'application/vnd.oci.image.index.v1+json',
    });
    expect(ecr.commandCalls(DescribeImagesCommand)[0]!.args[0].input).toEqual({
      repositoryName: 'team/app',
      registryId: '123456789012',
      imageIds: [{ imageTag: '1.0.0' }],
    });
  });

  it('answers undefined for a tag ECR does not have', async () => {
    ecr.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ message: 'not found', $metadata: {} }));
    expect(await new EcrImages(new ECRClient({ region: 'us-west-2' })).resolve('team/app', 'x')).toBeUndefined();
  });

  it('lists tagged images page by page, keeping the tags the filter accepts', async () => {
    ecr
      .on(DescribeImagesCommand)
      .resolvesOnce({ imageDetails: [{ imageDigest: 'sha256:1', imageTags: ['1.0.0', 'latest'] }], nextToken: 'p2' })
      .resolvesOnce({ imageDetails: [{ imageDigest: 'sha256:2', imageTags: ['1.1.0'] }] });
    const { tags, truncated } = await new EcrImages(new ECRClient({ region: 'us-west-2' })).listTagDigests(
      'team/app',
      (t) => t.startsWith('1.'),
      10,
    );
    expect([...tags]).toEqual([
      ['1.0.0', 'sha256:1'],
      ['1.1.0', 'sha256:2'],
    ]);
    expect(truncated).toBe(false);
    expect(ecr.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input.filter)).toEqual([
      { tagStatus: 'TAGGED' },
      { tagStatus: 'TAGGED' },
    ]);
  });

  it('reports throttling or outages as BackendUnavailable', async () => {
    ecr.on(DescribeImagesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(
      new EcrImages(new ECRClient({ region: 'us-west-2', maxAttempts: 1 })).resolve('team/app', '1'),
    ).rejects.toBeInstanceOf(BackendUnavailableError);
  });
});
