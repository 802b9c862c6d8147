import type { SchemaObject } from 'ajv';
import type { ImagePushed, ParseResult, RegistryParser } from '../image-pushed.js';
import { assertReference, assertShape, contentId } from './shape.js';

interface DockerHubEvent {
  push_data: { tag: string; pushed_at?: number };
  repository: { repo_name: string };
}

const schema: SchemaObject = {
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
 * Docker Hub webhooks: repository `repository.repo_name`, tag `push_data.tag`, no digest and no id (the delivery id
 * is built from repository, tag and `pushed_at`). Unsigned, so the event is only a hint: the trigger service
 * resolves the tag's digest through the registry API when the entry has `apiUrl`.
 */
export const parseDockerHub: RegistryParser = (input): ParseResult => {
  const { body, registry } = input;
  assertShape<DockerHubEvent>(schema, body, 'dockerhub');
  const { tag, pushed_at } = body.push_data;
  if (!tag) return { pushes: [], ignored: ['push without tag'] };
  const repository = body.repository.repo_name;
  const push: ImagePushed = {
    registry: registry.name,
    host: registry.host,
    repository,
    tag,
    deliveryId: pushed_at === undefined ? contentId(input) : `dockerhub:${repository}:${tag}:${pushed_at}`,
  };
  return { pushes: [assertReference(push, 'body')], ignored: [] };
};
