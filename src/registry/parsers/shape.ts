import { createHash } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import { ValidationError } from '../../errors.js';
import { describeProblems, schemaProblems } from '../../validation.js';
import { validators } from '../generated/shape-validators.js';
import { DIGEST_PATTERN, type ImagePushed, REPOSITORY_PATTERN, TAG_PATTERN } from '../image-pushed.js';

/** The name of a payload shape (`PARSER_SHAPES` in registry-parsers.ts), compiled ahead of time. */
export type ShapeName = keyof typeof validators;

/**
 * Checks a body against the (deliberately loose) shape of its registry type; throws ValidationError naming every
 * bad field. Parsers validate only what they read, because a picky receiver stalls a registry's queue.
 */
export function assertShape<T>(shape: ShapeName, body: unknown, type: string): asserts body is T {
  assertBody(body, type);
  const validate = validators[shape] as ValidateFunction;
  if (validate(body)) return;
  const details = schemaProblems(validate.errors, 'body');
  throw new ValidationError(`${type} event: ${describeProblems(details)}`, details);
}

/** Throws ValidationError when there is no body at all (a JSON `null`, or nothing): `<type> event: body is required`. */
export function assertBody(body: unknown, type: string): void {
  if (body === undefined || body === null) {
    throw new ValidationError(`${type} event: body is required`, [{ path: 'body', message: 'is required' }]);
  }
}

/** Throws ValidationError when repository, tag or digest break the OCI grammar (they end up in URLs and env vars). */
export function assertReference(push: ImagePushed, path: string): ImagePushed {
  const problems: { path: string; message: string }[] = [];
  if (!REPOSITORY_PATTERN.test(push.repository))
    problems.push({ path: `${path} repository`, message: `'${clip(push.repository)}' is not a repository name` });
  if (!TAG_PATTERN.test(push.tag)) problems.push({ path: `${path} tag`, message: `'${clip(push.tag)}' is not a tag` });
  if (push.digest !== undefined && !DIGEST_PATTERN.test(push.digest))
    problems.push({ path: `${path} digest`, message: `'${clip(push.digest)}' is not a digest` });
  if (problems.length > 0) {
    throw new ValidationError(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
  }
  return push;
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/**
 * The delivery id of an HMAC-signed sender (GitHub): a hash of the raw body, i.e. of exactly the bytes the signature
 * covers, so no unsigned header can make a replayed body look new. Never used for unsigned senders that repeat their
 * bytes for different pushes (Quay): those are identified by what was pushed.
 */
export function contentId(input: { body: unknown; rawBody?: Buffer }): string {
  const h = createHash('sha256');
  h.update(input.rawBody ?? JSON.stringify(input.body));
  return `sha256-${h.digest('hex').slice(0, 32)}`;
}

/** The first value of a header (lower-case name). */
export function header(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  name: string,
): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
