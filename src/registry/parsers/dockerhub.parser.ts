import type { SchemaObject } from 'ajv';
import type { ImagePushed, ParseResult, ParserInput } from '../image-pushed.js';
import { assertReference, assertShape } from './shape.js';

interface DockerHubEvent {
  push_data: { tag: string; pushed_at?: number };
  repository: { repo_name: string };
}

/** The shape this parser reads (loose: a picky receiver stalls a registry's queue). */
export const dockerHubShape: SchemaObject = {
  type: 'object',
  required: ['push_data', 'repository'],
  properties: {
    push_data: {
      type: 'object',
      required: ['tag'],
      properties: { tag: { type: 'string' }, pushed_at: { type: 'number' } },
    },
    repository: {
      type: 'object',
      required: ['repo_name'],
      properties: { repo_name: { type: 'string', minLength: 1 } },
    },
  },
};

/**
 * Docker Hub webhooks, current (docker/docs `manuals/docker-hub/repos/manage/webhooks.md`) and older (`images[]`, a
 * float `pushed_at` such as `1.417566161e+09`; docker/docs `docker-hub/webhooks.md`): repository
 * `repository.repo_name`, tag `push_data.tag`, no digest and no id — `pushed_at` is in seconds and repeats across the
 * several calls of one multi-arch push, so it identifies nothing. Unsigned, so the event is only a hint: the trigger
 * service resolves the tag's digest through the registry API when the entry has `apiUrl`, and the push is identified
 * by (image, tag, digest).
 */
export function parseDockerHub({ body, registry }: ParserInput): ParseResult {
  assertShape<DockerHubEvent>('dockerhub', body, 'dockerhub');
  const { tag } = body.push_data;
  if (!tag) return { pushes: [], ignored: ['push without tag'] };
  const repository = body.repository.repo_name;
  const push: ImagePushed = {
    registry: registry.name,
    host: registry.host,
    repository,
    tag,
  };
  return { pushes: [assertReference(push, 'body')], ignored: [] };
}
