import type { SchemaObject } from 'ajv';
import type { ImagePushed, ParseResult, ParserInput } from '../image-pushed.js';
import { assertReference, assertShape } from './shape.js';

interface DockerEventData {
  event_type?: string;
  repo_key?: string;
  image_name?: string;
  tag?: string;
  sha256?: string;
}

interface ArtifactoryEvent extends DockerEventData {
  domain?: string;
  data?: DockerEventData;
}

const dataProperties = {
  event_type: { type: 'string' },
  repo_key: { type: 'string' },
  image_name: { type: 'string' },
  tag: { type: 'string' },
  sha256: { type: 'string' },
};

/**
 * Both documented bodies: the wrapped `{"domain", "event_type", "data": {…}}` (docs.jfrog.com "Event Types"; Keel's
 * tests) and the flat docker body of JFrog's help page for the docker domain ("Docker Tag was Pushed/Deleted":
 * `event_type`, `repo_key`, `path`, `name`, `sha256`, `size`, `image_name`, `tag`, `platforms`, no `domain`/`data`).
 */
/** The shape this parser reads (loose: a picky receiver stalls a registry's queue). */
export const artifactoryShape: SchemaObject = {
  type: 'object',
  required: ['event_type'],
  properties: {
    domain: { type: 'string' },
    ...dataProperties,
    data: { type: 'object', properties: dataProperties },
  },
};

/**
 * JFrog Artifactory `docker` domain `pushed` events (one per pushed tag, platforms listed inside). The repository is
 * `<repo_key>/<image_name>`, as pulled with Artifactory's repository-path access method
 * (`<host>/<repo_key>/<image>`); the digest is `sha256:` + `sha256` (the manifest or list file's hash). No event id:
 * a push is identified by (image, tag, digest); a signed body (`use_secret_for_signing`) covers all three.
 */
export function parseArtifactory({ body, registry }: ParserInput): ParseResult {
  assertShape<ArtifactoryEvent>('artifactory', body, 'artifactory');
  const wrapped = body.domain !== undefined || body.data !== undefined;
  const domain = body.domain ?? 'docker';
  if (domain !== 'docker' || body.event_type !== 'pushed') {
    return { pushes: [], ignored: [`${domain} ${body.event_type} event`] };
  }
  const d: DockerEventData = wrapped ? (body.data ?? {}) : body;
  if (!d.tag) return { pushes: [], ignored: ['push without tag'] };
  const push: ImagePushed = {
    registry: registry.name,
    host: registry.host,
    repository: [d.repo_key, d.image_name].filter(Boolean).join('/'),
    tag: d.tag,
    digest: d.sha256 ? `sha256:${d.sha256}` : undefined,
  };
  return { pushes: [assertReference(push, wrapped ? 'body/data' : 'body')], ignored: [] };
}
