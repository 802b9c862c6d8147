import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { AppError, ValidationError } from '../errors.js';
import type { GocdHandler } from '../gocd/gocd-handlers.js';
import { GOCD_REQUEST_NAMES, type GocdRequestName, isGocdRequestName } from '../gocd/request-names.js';
import { requireBearer } from './auth.js';
import { gocdRequestSchemas, type OpenApiSpec, routeSchema } from './openapi.js';

export interface GocdRouteOptions {
  spec: OpenApiSpec;
  handlers: Record<GocdRequestName, GocdHandler>;
  forwarderToken: string;
}

/** Compiles the body schema of every request name from openapi.yaml (`x-gocd-requests`). */
function compileValidators(spec: OpenApiSpec): Map<string, ValidateFunction> {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const schemas = gocdRequestSchemas(spec);
  const missing = GOCD_REQUEST_NAMES.filter((n) => !schemas.has(n));
  if (missing.length) throw new Error(`openapi.yaml x-gocd-requests lacks ${missing.join(', ')}`);
  return new Map([...schemas].map(([name, schema]) => [name, ajv.compile(schema)]));
}

/** `POST /gocd/requests/{requestName}`: bearer auth, per-request body schema, then the request's handler. */
export function registerGocdRoutes(app: FastifyInstance, options: GocdRouteOptions): void {
  const validators = compileValidators(options.spec);
  app.post<{ Params: { requestName: string } }>(
    '/gocd/requests/:requestName',
    {
      schema: routeSchema(options.spec, 'post', '/gocd/requests/{requestName}'),
      onRequest: requireBearer(() => [options.forwarderToken]),
    },
    async (request, reply) => {
      const name = request.params.requestName;
      if (!isGocdRequestName(name)) {
        throw new AppError(
          'UNKNOWN_REQUEST_NAME',
          `unknown GoCD request name '${name}'; this plugin implements elastic-agent extension v5`,
        );
      }
      const body = request.body;
      const validate = validators.get(name)!;
      if (!validate(body ?? {})) {
        const details = (validate.errors ?? []).map((e) => {
          const missing =
            e.keyword === 'required' ? `/${(e.params as { missingProperty: string }).missingProperty}` : '';
          return { path: `body${e.instancePath}${missing}`, message: e.message ?? 'invalid' };
        });
        throw new ValidationError(
          `invalid ${name} body: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
          details,
        );
      }
      const result = await options.handlers[name](body);
      return reply.type('application/json').send(JSON.stringify(result));
    },
  );
}
