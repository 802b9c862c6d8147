import { parse as parseYaml } from 'yaml';
import { openApiText } from './route-schemas.js';

type Json = Record<string, unknown>;

/** The parsed `openapi.yaml`: the one source of the route schemas, the validators and the GoCD message types. */
export interface OpenApiSpec {
  text: string;
  doc: Json;
}

let cached: OpenApiSpec | undefined;

/**
 * Loads (once) and parses openapi.yaml: for the code generator (route schemas, validators, message types), the API
 * reference page and the tests. The service's routes never need it parsed at start-up (src/http/route-schemas.ts).
 */
export function loadOpenApi(): OpenApiSpec {
  if (!cached) {
    const text = openApiText();
    cached = { text, doc: parseYaml(text) as Json };
  }
  return cached;
}

/** Inlines every local `$ref` (`#/components/...`) so the schema stands alone for ajv / Fastify. */
export function resolveRefs(node: unknown, doc: Json, depth = 0): unknown {
  if (depth > 32) throw new Error('openapi.yaml: $ref nesting too deep (a cycle?)');
  if (Array.isArray(node)) return node.map((n) => resolveRefs(n, doc, depth + 1));
  if (!node || typeof node !== 'object') return node;
  const obj = node as Json;
  if (typeof obj.$ref === 'string') {
    const target = obj.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((acc, key) => (acc as Json | undefined)?.[key], doc);
    if (target === undefined) throw new Error(`openapi.yaml: unresolved $ref ${obj.$ref}`);
    return resolveRefs(target, doc, depth + 1);
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) out[k] = resolveRefs(v, doc, depth + 1);
  return out;
}

/** A component schema by name, refs inlined. */
export function componentSchema(spec: OpenApiSpec, name: string): Json {
  const schemas = (spec.doc.components as Json | undefined)?.schemas as Json | undefined;
  const schema = schemas?.[name];
  if (!schema) throw new Error(`openapi.yaml: no components.schemas.${name}`);
  return resolveRefs(schema, spec.doc) as Json;
}

/** Every (method, path) of the spec, in Fastify's `:param` syntax. */
export function specRoutes(spec: OpenApiSpec): { method: string; url: string }[] {
  const out: { method: string; url: string }[] = [];
  for (const [path, item] of Object.entries((spec.doc.paths as Json) ?? {})) {
    for (const method of Object.keys(item as Json)) {
      if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) {
        out.push({ method: method.toUpperCase(), url: path.replace(/\{([^}]+)\}/g, ':$1') });
      }
    }
  }
  return out;
}

/**
 * Fastify route schema (params, querystring, headers, body) for one operation of the spec. Bodies declared
 * as `schema: {}` stay unvalidated here (the GoCD route validates per request name).
 */
export function routeSchema(spec: OpenApiSpec, method: string, path: string): Json {
  const op = ((spec.doc.paths as Json)?.[path] as Json | undefined)?.[method.toLowerCase()] as Json | undefined;
  if (!op) throw new Error(`openapi.yaml has no ${method} ${path}`);
  const schema: Json = {};
  const params = (op.parameters as Json[] | undefined) ?? [];
  for (const [where, key] of [
    ['path', 'params'],
    ['query', 'querystring'],
    ['header', 'headers'],
  ] as const) {
    const list = params.filter((p) => p.in === where);
    if (list.length === 0) continue;
    schema[key] = {
      type: 'object',
      properties: Object.fromEntries(
        list.map((p) => [where === 'header' ? String(p.name).toLowerCase() : p.name, resolveRefs(p.schema, spec.doc)]),
      ),
      required: list.filter((p) => p.required).map((p) => (where === 'header' ? String(p.name).toLowerCase() : p.name)),
    };
  }
  const body = ((op.requestBody as Json | undefined)?.content as Json | undefined)?.['application/json'] as
    | Json
    | undefined;
  const bodySchema = body?.schema as Json | undefined;
  if (bodySchema && Object.keys(bodySchema).length > 0) schema.body = resolveRefs(bodySchema, spec.doc);
  return schema;
}

/** `x-gocd-requests`: GoCD request name → component schema name of its body. */
export function gocdRequestSchemas(spec: OpenApiSpec): Map<string, Json> {
  const map = (spec.doc['x-gocd-requests'] as Record<string, string> | undefined) ?? {};
  return new Map(Object.entries(map).map(([name, schemaName]) => [name, componentSchema(spec, schemaName)]));
}
