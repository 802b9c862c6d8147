import type { ValidateFunction } from 'ajv';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ValidationError } from '../errors.js';
import type { GocdHandlers, GocdRequestBody } from '../gocd/gocd-handlers.js';
import type { GocdRequestContext } from '../gocd/messages.js';
import { type GocdRequestName, isGocdRequestName } from '../gocd/request-names.js';
import { describeProblems, schemaProblems } from '../validation.js';
import { requireBearer } from './auth.js';
import { routeSchema } from './route-schemas.js';

const SHOULD_ASSIGN_WORK = 'cd.go.elastic-agent.should-assign-work';
const SHOULD_ASSIGN_WORK_PATH = `/gocd/requests/${SHOULD_ASSIGN_WORK}`;

function sendJson(reply: FastifyReply, value: unknown): FastifyReply {
  return reply.type('application/json').send(JSON.stringify(value));
}

export interface GocdRoutesOptions {
  handlers: GocdHandlers;
  /** The forwarder's token, and a second one while it is rotated. */
  forwarderTokens: readonly (string | undefined)[];
  /** What a request brings besides its body (Lambda: the invocation's launch budget); default nothing. */
  context?: (request: FastifyRequest) => GocdRequestContext;
}

type BodyValidators = Record<GocdRequestName, ValidateFunction>;

/**
 * The body validator of each request name, compiled ahead of time from openapi.yaml's `x-gocd-requests` and loaded
 * with the first request that needs one: should-assign-work (most of GoCD's calls, the first a cold Lambda answers)
 * never does.
 */
let bodyValidators: BodyValidators | Promise<BodyValidators> | undefined;
function loadBodyValidators(): BodyValidators | Promise<BodyValidators> {
  bodyValidators ??= import('./generated/gocd-body-validators.js').then(
    (m) => (bodyValidators = m.validators as BodyValidators),
  );
  return bodyValidators;
}

/** The body of a request name, checked against its schema; a 400 names every problem. */
function validBody<N extends GocdRequestName>(validators: BodyValidators, name: N, body: unknown): GocdRequestBody<N> {
  const value = body ?? {};
  const validate = validators[name];
  if (validate(value)) return value as GocdRequestBody<N>;
  const details = schemaProblems(validate.errors, 'body');
  throw new ValidationError(`invalid ${name} body: ${describeProblems(details)}`, details);
}

const NO_CONTEXT: GocdRequestContext = {};

/**
 * `POST /gocd/requests/{requestName}`: bearer auth, per-request body schema, then the request's handler.
 *
 * should-assign-work also has its own static route (`/gocd/requests/cd.go.elastic-agent.should-assign-work`, listed
 * in openapi.yaml): GoCD asks it for every (job, agent) pair of its assignment loop, and a static route skips the
 * parametric match, the decoding and validation of the name, and the name lookup. The router decodes a path before
 * matching it, so every spelling of the name (percent-encoded letters, a query string) reaches the static route, and
 * the parametric route never answers should-assign-work.
 */
export const gocdRoutes: FastifyPluginCallback<GocdRoutesOptions> = (app, options, done) => {
  const onRequest = requireBearer(options.forwarderTokens);
  const contextOf = options.context ?? (() => NO_CONTEXT);
  const handlers = options.handlers as Record<GocdRequestName, (body: unknown, context: GocdRequestContext) => unknown>;

  // should-assign-work is total (DESIGN.md): a body that is not even JSON answers `false`, never an error, as the
  // forwarder's local rule does (a 400 here means auth already passed). Everything else goes to the root handler.
  const shouldAssignErrorHandler = (error: Error, request: FastifyRequest, reply: FastifyReply) => {
    if ((error as { statusCode?: number }).statusCode === 400) {
      return reply.code(200).type('application/json').send('false');
    }
    return app.errorHandler(error, request, reply);
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
      schema: routeSchema('post', SHOULD_ASSIGN_WORK_PATH),
      onRequest,
      errorHandler: shouldAssignErrorHandler,
    },
    (request, reply) => respond(reply, handlers[SHOULD_ASSIGN_WORK](request.body, NO_CONTEXT)),
  );

  app.post<{ Params: { requestName: string } }>(
    '/gocd/requests/:requestName',
    {
      schema: routeSchema('post', '/gocd/requests/:requestName'),
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
      const validators = loadBodyValidators();
      const answer = (v: BodyValidators) =>
        respond(reply, handlers[name](validBody(v, name, request.body), contextOf(request)));
      return validators instanceof Promise ? validators.then(answer) : answer(validators);
    },
  );
  done();
};
