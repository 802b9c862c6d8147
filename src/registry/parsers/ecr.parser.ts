import type { SchemaObject } from 'ajv';
import { parseEcrHost } from '../ecr-host.js';
import type { ImagePushed, ParseResult, ParserInput } from '../image-pushed.js';
import { assertReference, assertShape } from './shape.js';

interface EcrEvent {
  id: string;
  source: string;
  'detail-type': string;
  account: string;
  region: string;
  detail: {
    'action-type'?: string;
    result?: string;
    'repository-name'?: string;
    'image-digest'?: string;
    'image-tag'?: string;
    'manifest-media-type'?: string;
  };
}

/** The EventBridge envelope (delivered verbatim by an API destination, or as a Lambda's `event`): the shape read. */
export const ecrShape: SchemaObject = {
  type: 'object',
  required: ['id', 'source', 'detail-type', 'account', 'region', 'detail'],
  properties: {
    id: { type: 'string', minLength: 1 },
    source: { type: 'string' },
    'detail-type': { type: 'string' },
    account: { type: 'string' },
    region: { type: 'string' },
    detail: {
      type: 'object',
      properties: {
        'action-type': { type: 'string' },
        result: { type: 'string' },
        'repository-name': { type: 'string' },
        'image-digest': { type: 'string' },
        'image-tag': { type: 'string' },
      },
    },
  },
};

/** The registry host an ECR event is about (`<account>.dkr.ecr.<region>.amazonaws.com`). */
export function ecrHost(account: string, region: string): string {
  return `${account}.dkr.ecr.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/**
 * Amazon ECR through EventBridge: `ECR Image Action` with `action-type` PUSH and `result` SUCCESS and a non-empty
 * `image-tag` (untagged child manifests of a multi-arch push come with `""`); also `ECR Replication Action`
 * REPLICATE/SUCCESS, because a replica gets no PUSH of its own. The event's account/region must be the configured
 * host's: one entry never triggers on another account's images.
 */
export function parseEcr({ body, registry }: ParserInput): ParseResult {
  assertShape<EcrEvent>('ecr', body, 'ecr');
  const result: ParseResult = { pushes: [], ignored: [] };
  const d = body.detail;
  const kind = body['detail-type'];
  if (body.source !== 'aws.ecr') return { ...result, ignored: [`source ${body.source}`] };
  const isPush = kind === 'ECR Image Action' && d['action-type'] === 'PUSH';
  const isReplica = kind === 'ECR Replication Action' && d['action-type'] === 'REPLICATE';
  if (!isPush && !isReplica) return { ...result, ignored: [`${kind} ${d['action-type'] ?? ''}`.trim()] };
  if (d.result !== 'SUCCESS') return { ...result, ignored: [`${d['action-type']} result ${d.result ?? 'missing'}`] };
  if (!d['image-tag']) return { ...result, ignored: ['untagged manifest push'] };
  const configured = parseEcrHost(registry.host);
  if (configured && (configured.account !== body.account || configured.region !== body.region)) {
    return { ...result, ignored: [`event for account ${body.account} in ${body.region}, not ${registry.host}`] };
  }
  const push: ImagePushed = {
    registry: registry.name,
    host: registry.host,
    repository: d['repository-name'] ?? '',
    tag: d['image-tag'],
    digest: d['image-digest'],
    mediaType: d['manifest-media-type'],
    deliveryId: body.id,
  };
  result.pushes.push(assertReference(push, 'body/detail'));
  return result;
}
