import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ValidationError } from '../errors.js';
import type { GocdHandler } from '../gocd/gocd-handlers.js';
import { GOCD_REQUEST_NAMES, type GocdRequestName, isGocdRequestName } from '../gocd/request-names.js';
import { requireBearer } from './auth.js';
import { gocdRequestSchemas, type OpenApiSpec, routeSchema } from './openapi.js';

const SHOULD_ASSIGN_WORK = 'cd.go.elastic-agent.should-assign-work';
const SHOULD_ASSIGN_WORK_PATH = `/gocd/requests/${SHOULD_ASSIGN_WORK}`;

function sendJson(reply: FastifyReply, value: unknown): FastifyReply {
  return reply.type('application/json').send(JSON.stringify(value));
}

export interface GocdRouteOptions {
  spec: OpenApiSpec;
  handlers: Record<GocdRequestName, GocdHandler>;
  forwarderToken: string;
}

/**
 * The body validator of each request name from openapi.yaml (`x-gocd-requests`), compiled on first use: compiling
 * all of them up front is a large share of a Lambda cold start, and most containers only ever see a few names.
 */
function compileValidators(spec: OpenApiSpec): (name: string) => ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const schemas = gocdRequestSchemas(spec);
  const missing = GOCD_REQUEST_NAMES.filter((n) => !schemas.has(n));
  if (missing.length) throw new Error(`openapi.yaml x-gocd-requests lacks ${missing.join(', ')}`);
  const compiled = new Map<string, ValidateFunction>();
  return (name) => {
    let validate = compiled.get(name);
    if (!validate) {
      validate = ajv.compile(schemas.get(name)!);
      compiled.set(name, validate);
    }
    return validate;
  };
}

/**
 * `POST /gocd/requests/{requestName}`: bearer auth, per-request body schema, then the request's handler.
 *
 * should-assign-work also has its own static route (`/gocd/requests/cd.go.elastic-agent.should-assign-work`, listed
 * in openapi.yaml): GoCD asks it for every (job, agent) pair of its assignment loop, and a static route skips the
 * parametric match, the decoding and validation of the name, and the name lookup. The router decodes a path before
 * matching it, so every spelling of the name (percent-encoded letters, a query string) reaches the static route, and
 * the parametric route never answers should-assign-work.
 */
export function registerGocdRoutes(app: FastifyInstance, options: GocdRouteOptions): void {
  const validators = compileValidators(options.spec);
  const onRequest = requireBearer([options.forwarderToken]);

  // should-assign-work is total (DESIGN.md): a body that is not even JSON answers `false`, never an error, as the
  // forwarder's local rule does (a 400 here means auth already passed). Everything else goes to the root handler.
  const shouldAssignErrorHandler = (error: Error, request: FastifyRequest, reply: FastifyReply) => {
    if ((error as { statusCode?: number }).statusCode === 400) {
      return reply.code(200).type('application/json').send('false');
    }
    return app.errorHandler(error, request, reply);
  };

  // The body schema of a request name from openapi.yaml's x-gocd-requests; a 400 names every problem.
  const validateBody = (name: GocdRequestName, body: unknown): void => {
    const validate = validators(name);
    if (validate(body ?? {})) return;
    const details = (validate.errors ?? []).map((e) => {
      const missing = e.keyword === 'required' ? `/${(e.params as { missingProperty: string }).missingProperty}` : '';
      return { path: `body${e.instancePath}${missing}`, message: e.message ?? 'invalid' };
    });
    throw new ValidationError(
      `invalid ${name} body: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
      details,
    );
  };

  // Handlers are not async: a synchronous answer (should-assign-work's included) is sent in the same tick, without
  // the promise and microtask an async handler costs; a handler's promise is returned for Fastify to await.
  const respond = (reply: FastifyReply, result: unknown) => {
    if (result instanceof Promise) return result.then((value) => sendJson(reply, value));
    sendJson(reply, result);
    return undefined;
  };

  // should-assign-work's rule is total (anything malformed answers false), so its body is not validated: that would
  // only cost time on the hottest path.
  app.post(
    SHOULD_ASSIGN_WORK_PATH,
    {
      schema: routeSchema(options.spec, 'post', SHOULD_ASSIGN_WORK_PATH),
      onRequest,
      errorHandler: shouldAssignErrorHandler,
    },
    (request, reply) => respond(reply, options.handlers[SHOULD_ASSIGN_WORK](request.body)),
  );

  app.post<{ Params: { requestName: string } }>(
    '/gocd/requests/:requestName',
    {
      schema: routeSchema(options.spec, 'post', '/gocd/requests/{requestName}'),
      onRequest,
    },
    (request, reply) => {
      const name = request.params.requestName;
      if (!isGocdRequestName(name)) {
        throw new AppError(
          'UNKNOWN_REQUEST_NAME',
          `unknown GoCD request name '${name}'; this plugin implements elastic-agent extension v5`,
        );
      }
      validateBody(name, request.body);
      return respond(reply, options.handlers[name](request.body));
    },
  );
}
