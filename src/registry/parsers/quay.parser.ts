import type { SchemaObject } from 'ajv';
import type { ImagePushed, ParseResult, RegistryParser } from '../image-pushed.js';
import { assertReference, assertShape, contentId } from './shape.js';

interface QuayEvent {
  repository: string;
  updated_tags?: string[] | Record<string, unknown>;
}

const schema: SchemaObject = {
  type: 'object',
  required: ['repository'],
  properties: {
    repository: { type: 'string', minLength: 1 },
    updated_tags: {
      anyOf: [{ type: 'array', maxItems: 1000, items: { type: 'string' } }, { type: 'object' }],
    },
  },
};

/**
 * Quay / Red Hat Quay "Repository Push" notifications: `repository` (`namespace/name`) and `updated_tags` (a list;
 * very old Quay sent a tag → image-id map). No digest, no id, no signature: a hint, resolved through the registry
 * API when the entry has `apiUrl`. Other notification kinds have no `updated_tags` and are ignored.
 */
export const parseQuay: RegistryParser = (input): ParseResult => {
  const { body, registry } = input;
  assertShape<QuayEvent>(schema, body, 'quay');
  const tags = Array.isArray(body.updated_tags) ? body.updated_tags : Object.keys(body.updated_tags ?? {});
  if (tags.length === 0) return { pushes: [], ignored: ['notification without updated_tags'] };
  const id = contentId(input);
  const pushes = [...new Set(tags)].map((tag, i) =>
    assertReference(
      {
        registry: registry.name,
        host: registry.host,
        repository: body.repository,
        tag,
        deliveryId: `${id}#${tag}`,
      } satisfies ImagePushed,
      `body/updated_tags/${i}`,
    ),
  );
  return { pushes, ignored: [] };
};
