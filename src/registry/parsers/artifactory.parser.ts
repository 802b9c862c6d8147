import type { SchemaObject } from 'ajv';
import type { ImagePushed, ParseResult, RegistryParser } from '../image-pushed.js';
import { assertReference, assertShape, contentId } from './shape.js';

interface ArtifactoryEvent {
  domain: string;
  event_type: string;
  data?: { repo_key?: string; image_name?: string; tag?: string; sha256?: string };
}

const schema: SchemaObject = {
  type: 'object',
  required: ['domain', 'event_type'],
  properties: {
    domain: { type: 'string' },
    event_type: { type: 'string' },
    data: {
      type: 'object',
      properties: {
        repo_key: { type: 'string' },
        image_name: { type: 'string' },
        tag: { type: 'string' },
        sha256: { type: 'string' },
      },
    },
  },
};

/**
 * JFrog Artifactory `docker` domain `pushed` events (one per pushed tag, platforms listed inside). The repository is
 * `<repo_key>/<image_name>`, as pulled with Artifactory's repository-path access method
 * (`<host>/<repo_key>/<image>`); the digest is `sha256:` + `data.sha256` (the manifest or list file's hash).
 */
export const parseArtifactory: RegistryParser = (input): ParseResult => {
  const { body, registry } = input;
  assertShape<ArtifactoryEvent>(schema, body, 'artifactory');
  if (body.domain !== 'docker' || body.event_type !== 'pushed') {
    return { pushes: [], ignored: [`${body.domain} ${body.event_type} event`] };
  }
  const d = body.data ?? {};
  if (!d.tag) return { pushes: [], ignored: ['push without tag'] };
  const push: ImagePushed = {
    registry: registry.name,
    host: registry.host,
    repository: [d.repo_key, d.image_name].filter(Boolean).join('/'),
    tag: d.tag,
    digest: d.sha256 ? `sha256:${d.sha256}` : undefined,
    deliveryId: contentId(input),
  };
  return { pushes: [assertReference(push, 'body/data')], ignored: [] };
};
