import type { SchemaObject } from 'ajv';
import { type ImagePushed, MANIFEST_MEDIA_TYPES, type ParseResult, type ParserInput } from '../image-pushed.js';
import { assertReference, assertShape } from './shape.js';

interface DistributionEvent {
  id: string;
  action: string;
  target?: { mediaType?: string; digest?: string; repository?: string; tag?: string };
}

/** Envelope of CNCF distribution v2/v3 and GitLab's fork: `{"events":[…]}`; only what we read is required. */
/** The shape this parser reads (loose: a picky receiver stalls a registry's queue). */
export const distributionShape: SchemaObject = {
  type: 'object',
  required: ['events'],
  properties: {
    events: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        required: ['id', 'action'],
        properties: {
          id: { type: 'string', minLength: 1 },
          action: { type: 'string' },
          target: {
            type: 'object',
            properties: {
              mediaType: { type: 'string' },
              digest: { type: 'string' },
              repository: { type: 'string' },
              tag: { type: 'string' },
            },
          },
        },
      },
    },
  },
};

/**
 * Docker Registry / CNCF distribution notifications (`…events.v1+json` from 2.x, `…events.v2+json` from 3.x, same
 * fields; GitLab's fork adds fields we ignore). A tag moved only on `push` of a manifest media type with a tag:
 * blob pushes, untagged child manifests of an index, pulls, mounts and deletes are ignored.
 */
export function parseDistribution({ body, registry }: ParserInput): ParseResult {
  assertShape<{ events: DistributionEvent[] }>('distribution', body, 'distribution');
  const result: ParseResult = { pushes: [], ignored: [] };
  for (const [i, event] of body.events.entries()) {
    const t = event.target ?? {};
    if (event.action !== 'push') {
      result.ignored.push(`${event.action} event`);
    } else if (!t.mediaType || !MANIFEST_MEDIA_TYPES.has(t.mediaType)) {
      result.ignored.push(`push of ${t.mediaType ?? 'unknown media type'} (not a manifest)`);
    } else if (!t.tag) {
      result.ignored.push('untagged manifest push');
    } else {
      const push: ImagePushed = {
        registry: registry.name,
        host: registry.host,
        repository: t.repository ?? '',
        tag: t.tag,
        digest: t.digest,
        mediaType: t.mediaType,
        deliveryId: event.id,
      };
      result.pushes.push(assertReference(push, `body/events/${i}/target`));
    }
  }
  return result;
}
