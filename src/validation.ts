import type { ErrorObject } from 'ajv';

/** One problem of a value that fails its JSON Schema: where (a JSON pointer under a root name) and what. */
export interface SchemaProblem {
  path: string;
  message: string;
}

/**
 * The one mapping of JSON Schema errors (ajv's, whether compiled ahead of time or by Fastify) to problems naming the
 * bad key: the value's pointer under `root` (`body/job_identifier/job_id`, `/gocd/apiUrl`), the missing key of a
 * `required` error, the unknown key of an `additionalProperties` one.
 */
export function schemaProblems(errors: readonly ErrorObject[] | null | undefined, root = ''): SchemaProblem[] {
  return (errors ?? []).map((e) => {
    const params = e.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
    const missing = e.keyword === 'required' ? `/${params.missingProperty}` : '';
    const extra =
      e.keyword === 'additionalProperties'
        ? `: '${params.additionalProperty}' is not a known key`
        : e.keyword === 'enum' && params.allowedValues
          ? `: ${params.allowedValues.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`
          : '';
    return { path: `${root}${e.instancePath}${missing}`, message: `${e.message ?? 'invalid'}${extra}` };
  });
}

/** The problems in one line (`path message; path message`). */
export function describeProblems(problems: readonly SchemaProblem[]): string {
  return problems.map((d) => `${d.path} ${d.message}`).join('; ');
}
