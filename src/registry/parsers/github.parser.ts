import type { SchemaObject } from 'ajv';
import { ValidationError } from '../../errors.js';
import type { ImagePushed, ParseResult, ParserInput } from '../image-pushed.js';
import { assertBody, assertReference, assertShape, contentId, header } from './shape.js';

interface GithubPackage {
  name: string;
  ecosystem?: string | null;
  package_type?: string | null;
  owner: { login: string };
  package_version?: {
    container_metadata?: {
      tag?: { name?: string; digest?: string };
      manifest?: { digest?: string; media_type?: string };
    } | null;
  } | null;
}

const packageSchema: SchemaObject = {
  type: 'object',
  required: ['name', 'owner'],
  properties: {
    name: { type: 'string', minLength: 1 },
    // Read with toLowerCase below: a non-string must be a 400, not a TypeError (a 500).
    ecosystem: { type: ['string', 'null'] },
    package_type: { type: ['string', 'null'] },
    owner: { type: 'object', required: ['login'], properties: { login: { type: 'string', minLength: 1 } } },
    package_version: {
      type: ['object', 'null'],
      properties: {
        container_metadata: {
          type: ['object', 'null'],
          properties: {
            tag: { type: 'object', properties: { name: { type: 'string' }, digest: { type: 'string' } } },
            manifest: { type: 'object', properties: { digest: { type: 'string' }, media_type: { type: 'string' } } },
          },
        },
      },
    },
  },
};

/** The shapes this parser reads, by event (loose: a picky receiver stalls a registry's queue). */
export const githubShapes: Record<'package' | 'registry_package', SchemaObject> = {
  package: { type: 'object', required: ['action', 'package'], properties: { package: packageSchema } },
  registry_package: {
    type: 'object',
    required: ['action', 'registry_package'],
    properties: { registry_package: packageSchema },
  },
};

/**
 * GitHub Packages (ghcr.io): `package` and the older `registry_package` events, actions `published`/`updated`.
 * A multi-arch push emits one event per manifest; only the one carrying `container_metadata.tag.name` moved a tag.
 * The repository is `owner/name` in lower case (OCI references are lower case; GitHub keeps the owner's casing).
 * A package is a container when it carries `container_metadata`, or its `package_type` (else `ecosystem`) says so:
 * octokit's npm example has `ecosystem: "docker"` with `package_type: "npm"`.
 *
 * Identity: a hash of the raw body, the bytes `X-Hub-Signature-256` signs — never the `X-GitHub-Delivery` header,
 * which is not signed (a captured body replayed under forged delivery ids would otherwise schedule each time).
 * GitHub's own redelivery sends the same bytes, so it is recognised.
 */
export function parseGithub(input: ParserInput): ParseResult {
  const { body, headers, registry } = input;
  const event =
    header(headers, 'x-github-event') ??
    (body && typeof body === 'object' ? ['package', 'registry_package'].find((k) => k in body) : undefined);
  if (event === undefined) {
    throw new ValidationError('github event: no X-GitHub-Event header and no package in the body', [
      { path: 'headers/x-github-event', message: 'is required' },
    ]);
  }
  if (event !== 'package' && event !== 'registry_package') {
    // Another event's body is not read, so only a missing one is refused (a ping's body is an object; any value passes).
    assertBody(body, 'github');
    return { pushes: [], ignored: [`${event} event`] };
  }
  assertShape<{ action: string } & Record<string, GithubPackage>>(`github-${event}`, body, 'github');
  const pkg = body[event] as GithubPackage;
  if (body.action !== 'published' && body.action !== 'updated')
    return { pushes: [], ignored: [`${event} ${body.action}`] };
  const meta = pkg.package_version?.container_metadata;
  const type = (pkg.package_type || pkg.ecosystem)?.toLowerCase();
  if (!meta && type !== 'container' && type !== 'docker') {
    return { pushes: [], ignored: [`${pkg.package_type ?? pkg.ecosystem ?? 'unknown'} package`] };
  }
  const tag = meta?.tag?.name;
  if (!tag) return { pushes: [], ignored: ['untagged manifest push'] };
  // The tag's name was read from them, so both are here.
  const { manifest } = meta!;
  const tagDigest = meta!.tag!.digest;
  const push: ImagePushed = {
    registry: registry.name,
    host: registry.host,
    repository: `${pkg.owner.login}/${pkg.name}`.toLowerCase(),
    tag,
    digest: manifest?.digest || tagDigest || undefined,
    mediaType: manifest?.media_type || undefined,
    deliveryId: contentId(input),
  };
  return { pushes: [assertReference(push, `body/${event}`)], ignored: [] };
}
