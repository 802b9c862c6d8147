import type { SchemaObject } from 'ajv';
import type { ImagePushed, ParseResult, ParserInput } from '../image-pushed.js';
import { assertReference, assertShape } from './shape.js';

interface QuayEvent {
  repository: string;
  updated_tags?: string[] | Record<string, unknown>;
  pruned_image_count?: unknown;
  pushed_image_count?: unknown;
}

/** The shape this parser reads (loose: a picky receiver stalls a registry's queue). */
export const quayShape: SchemaObject = {
  type: 'object',
  required: ['repository'],
  properties: {
    repository: { type: 'string', minLength: 1 },
    updated_tags: {
      anyOf: [
        { type: 'array', maxItems: 1000, items: { type: 'string' } },
        { type: 'object', maxProperties: 1000 },
      ],
    },
  },
};

/**
 * The body of Quay's "Test Notification": `RepoPushEvent.get_sample_data` (quay/quay `notifications/
 * notificationevent.py`) adds exactly `{"updated_tags": ["latest", "foo"], "pruned_image_count": 3}` to the real
 * repository's fields. A real push today carries `{"updated_tags": [<tags>]}` only (quay/quay
 * `endpoints/v2/manifest.py`); the 2016–2017 format also sent `pruned_image_count`, but with `updated_tags` as a map
 * and a `pushed_image_count`, so it is never taken for a test.
 */
function isTestNotification(body: QuayEvent): boolean {
  return (
    Array.isArray(body.updated_tags) &&
    body.updated_tags.length === 2 &&
    body.updated_tags[0] === 'latest' &&
    body.updated_tags[1] === 'foo' &&
    body.pruned_image_count === 3 &&
    body.pushed_image_count === undefined
  );
}

/**
 * Quay / Red Hat Quay "Repository Push" notifications: `repository` (`namespace/name`) and `updated_tags` — a list
 * today, a tag → image-id map in the 2015 and 2017 documented formats (coreos/quay-docs `glossary/webhooks.md`,
 * `guides/notifications.md`). No digest, no id, no signature, and the same bytes for every push of a tag: the push is
 * identified by (image, tag, digest), the digest resolved through the registry API when the entry has `apiUrl`.
 * Other notification kinds (builds, vulnerabilities) have no `updated_tags` and are ignored; the UI's test
 * notification is returned as a test, never as a push.
 */
export function parseQuay({ body, registry }: ParserInput): ParseResult {
  assertShape<QuayEvent>('quay', body, 'quay');
  const tags = Array.isArray(body.updated_tags) ? body.updated_tags : Object.keys(body.updated_tags ?? {});
  if (tags.length === 0) return { pushes: [], ignored: ['notification without updated_tags'] };
  const pushes = [...new Set(tags)].map((tag, i) =>
    assertReference(
      { registry: registry.name, host: registry.host, repository: body.repository, tag } satisfies ImagePushed,
      `body/updated_tags/${i}`,
    ),
  );
  if (isTestNotification(body)) {
    return { pushes: [], ignored: ['Quay test notification (nothing scheduled)'], tests: pushes };
  }
  return { pushes, ignored: [] };
}
