import type { ErrorObject } from 'ajv';
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, type ErrorCode } from '../errors.js';
import { schemaProblems } from '../validation.js';
import { noteRefusal } from './request-log.js';

const STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  POLICY_REFUSED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNKNOWN_REQUEST_NAME: 404,
  NOT_SUPPORTED: 404,
  UNKNOWN_REGISTRY: 404,
  REQUEST_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  CONFIG_INVALID: 500,
  BACKEND_UNAVAILABLE: 503,
  OVERLOADED: 503,
  INTERNAL: 500,
};

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Fastify's own error codes that are the client's fault. */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; code: ErrorCode }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'BAD_REQUEST' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'BAD_REQUEST' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'BAD_REQUEST' },
  FST_ERR_VALIDATION: { status: 400, code: 'VALIDATION_FAILED' },
};

/**
 * The one root error handler: domain codes → HTTP status; client mistakes answer 4xx with a message naming the
 * problem; anything unexpected answers 500 with a generic message (details only in the log).
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, request, reply) => {
    let status = 500;
    let code: string = 'INTERNAL';
    let message = 'internal error';
    let details: unknown;
    if (err instanceof AppError) {
      status = STATUS[err.code];
      code = err.code;
      message =
        status >= 500 && err.code !== 'BACKEND_UNAVAILABLE' && err.code !== 'OVERLOADED'
          ? 'internal error'
          : err.message;
      details = err.details;
    } else {
      const fe = err as FastifyError;
      const known = fe.code ? FASTIFY_CLIENT_ERRORS[fe.code] : undefined;
      if (known) {
        status = known.status;
        code = known.code;
        message = fe.message;
        if (fe.validation) details = schemaProblems(fe.validation as ErrorObject[]);
      } else if (
        err instanceof SyntaxError ||
        (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500)
      ) {
        status = fe.statusCode && fe.statusCode < 500 ? fe.statusCode : 400;
        code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'BAD_REQUEST';
        message = err instanceof SyntaxError ? `body is not valid JSON: ${err.message}` : fe.message;
      }
    }
    if (status >= 500) request.log.error({ err }, 'request failed');
    // A refusal is logged once, by the request's completion line, with this code and message.
    else noteRefusal(request, { code, reason: message });
    const body: Record<string, unknown> = { statusCode: status, code, error: REASON[status] ?? 'Error', message };
    if (details !== undefined) body.details = details;
    void reply.status(status).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      statusCode: 404,
      code: 'NOT_FOUND',
      error: 'Not Found',
      message: `no route ${request.method} ${request.url.split('?')[0]}`,
    });
  });
}
