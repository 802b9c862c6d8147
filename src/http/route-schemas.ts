import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifySchema, FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify';
import { routeSchemas, validators } from './generated/route-validators.js';

/** Finds `openapi.yaml` next to this module or in a parent folder (source tree, `dist/`, or the Lambda bundle). */
function locate(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'openapi.yaml');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('openapi.yaml not found next to the service code or in a parent folder');
}

let text: string | undefined;

/** The text of openapi.yaml (read once, when first asked: `GET /openapi.yaml`, the API reference). */
export function openApiText(): string {
  text ??= readFileSync(locate(), 'utf8');
  return text;
}

/**
 * The route schema (params, querystring, headers, body) of an operation of openapi.yaml, by method and Fastify path
 * (`/registry/:name`), as scripts/generate.ts took it from the spec.
 */
export function routeSchema(method: string, url: string): FastifySchema {
  const schema = (routeSchemas as Record<string, FastifySchema>)[`${method.toUpperCase()} ${url}`];
  if (!schema) throw new Error(`openapi.yaml has no ${method} ${url}; run npm run generate`);
  return schema;
}

/**
 * Fastify's validator compiler, answering with the validator compiled ahead of time for that route part (with
 * Fastify's own ajv options), so no schema is compiled when the app starts.
 */
export const precompiledValidators: FastifySchemaCompiler<unknown> = ({ method, url, httpPart }) => {
  const validate = (validators as Record<string, ReturnType<FastifySchemaCompiler<unknown>>>)[
    `${method} ${url} ${httpPart}`
  ];
  if (!validate) throw new Error(`no precompiled validator for ${method} ${url} ${httpPart}; run npm run generate`);
  return validate;
};

/** Fastify's serializer compiler: no route declares a response schema (replies are JSON.stringify'd), so none is built. */
export const noResponseSchemas: FastifySerializerCompiler<unknown> = ({ method, url, httpStatus }) => {
  throw new Error(
    `no response schema is served: ${method} ${url} ${httpStatus} declares one; compile it ahead of time`,
  );
};
