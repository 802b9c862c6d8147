import type { RegistryConfig } from '../config/config.schema.js';

/** One "this tag now points at this manifest" fact, whatever registry sent it. */
export interface ImagePushed {
  /** Name of the configured registry entry that received (or polled) it. */
  registry: string;
  /** Host as in image references, from the registry's configuration (never from the payload). */
  host: string;
  /** Repository path inside the registry, e.g. `backends/database-x`. */
  repository: string;
  tag: string;
  /** Manifest (or index) digest; absent when the sender does not say (Docker Hub, Quay) and it was not resolved. */
  digest?: string;
  mediaType?: string;
  /**
   * The sender's own id of this push, stable across redeliveries and unique per push: an event id it sends, or for
   * an HMAC-signed sender a hash of the signed bytes. Absent when the sender guarantees none (Docker Hub, Quay,
   * Harbor's default format, Artifactory): the push is then identified by (image, tag, digest) alone.
   */
  deliveryId?: string;
}

/** What a parser made of one delivery: the pushes that count, and why everything else was ignored. */
export interface ParseResult {
  pushes: ImagePushed[];
  ignored: string[];
  /** Test deliveries a registry's UI sends (Quay's "Test Notification"): shown in the trigger report, never scheduled. */
  tests?: ImagePushed[];
}

/** Input of a parser: the parsed JSON body, request headers (lower-case names) and the raw bytes. */
export interface ParserInput {
  body: unknown;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  rawBody?: Buffer;
  registry: Readonly<RegistryConfig>;
}

/** A pure parser: body → pushes; throws ValidationError when the body is malformed for its type. */
export type RegistryParser = (input: ParserInput) => ParseResult;

/** `host/repository`, the image reference subscriptions match against. */
export function imageName(push: Pick<ImagePushed, 'host' | 'repository'>): string {
  return `${push.host}/${push.repository}`;
}

/** Manifest media types (image, index, Docker v2 and list, schema1); anything else (blobs) is not a tag move. */
export const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);

/** A "tag" that is really a digest (Harbor reports untagged pushes that way); real tags never contain `:`. */
export function isDigestReference(tag: string): boolean {
  return tag.includes(':');
}

/** OCI distribution-spec grammar of a repository name (path components, lower case). */
export const REPOSITORY_PATTERN = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
/** OCI distribution-spec grammar of a tag. */
export const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** A digest: algorithm `:` encoded hash. */
export const DIGEST_PATTERN = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
