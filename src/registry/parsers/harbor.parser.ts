import type { SchemaObject } from 'ajv';
import { type ImagePushed, isDigestReference, type ParseResult, type ParserInput } from '../image-pushed.js';
import { assertReference, assertShape } from './shape.js';

interface HarborData {
  resources?: { digest?: string; tag?: string }[];
  repository?: { repo_full_name?: string };
}

const dataSchema: SchemaObject = {
  type: 'object',
  properties: {
    resources: {
      type: 'array',
      maxItems: 1000,
      items: { type: 'object', properties: { digest: { type: 'string' }, tag: { type: 'string' } } },
    },
    repository: { type: 'object', properties: { repo_full_name: { type: 'string' } } },
  },
};

/** Default format: `{type, occur_at, operator, event_data}`. */
/** The default format's shape (loose: a picky receiver stalls a registry's queue). */
export const harborDefaultShape: SchemaObject = {
  type: 'object',
  required: ['type', 'event_data'],
  properties: { type: { type: 'string' }, event_data: dataSchema },
};

/** CloudEvents format (Harbor ≥ 2.8): `{specversion, id, type, data}`. */
/** The CloudEvents format's shape. */
export const harborCloudEventShape: SchemaObject = {
  type: 'object',
  required: ['specversion', 'id', 'type', 'data'],
  properties: {
    specversion: { type: 'string' },
    id: { type: 'string', minLength: 1 },
    type: { type: 'string' },
    data: dataSchema,
  },
};

/**
 * Harbor webhooks, default and CloudEvents formats. A push is `PUSH_ARTIFACT` (`pushImage` in Harbor 1.x) or
 * `harbor.artifact.pushed`; Harbor writes the digest into `tag` when the push had no tag, so such resources are
 * ignored. The host is the configured one, never `resource_url`'s. Identity: the CloudEvents `id` (a UUID per event,
 * goharbor/harbor `src/pkg/notifier/formats/cloudevents.go`); the default format has none (`occur_at` is seconds),
 * so its pushes are identified by (image, tag, digest), which Harbor always sends.
 */
export function parseHarbor({ body, registry }: ParserInput): ParseResult {
  const cloudEvent = !!body && typeof body === 'object' && 'specversion' in body;
  assertShape<{ type: string; specversion?: string; id?: string; data?: HarborData; event_data?: HarborData }>(
    cloudEvent ? 'harbor-cloudevents' : 'harbor-default',
    body,
    'harbor',
  );
  const result: ParseResult = { pushes: [], ignored: [] };
  if (!['PUSH_ARTIFACT', 'pushImage', 'harbor.artifact.pushed'].includes(body.type))
    return { ...result, ignored: [`${body.type} event`] };
  const data = (cloudEvent ? body.data : body.event_data) ?? {};
  const repository = data.repository?.repo_full_name ?? '';
  const where = cloudEvent ? 'body/data' : 'body/event_data';
  const seen = new Set<string>();
  for (const [i, r] of (data.resources ?? []).entries()) {
    if (!r.tag || isDigestReference(r.tag)) {
      result.ignored.push('untagged artifact push');
      continue;
    }
    if (seen.has(r.tag)) continue;
    seen.add(r.tag);
    const push: ImagePushed = {
      registry: registry.name,
      host: registry.host,
      repository,
      tag: r.tag,
      digest: r.digest,
      ...(cloudEvent ? { deliveryId: `${body.id}#${r.tag}` } : {}),
    };
    result.pushes.push(assertReference(push, `${where}/resources/${i}`));
  }
  if (result.pushes.length === 0 && result.ignored.length === 0) result.ignored.push('push without resources');
  return result;
}
