/** Stable error codes; the HTTP error handler maps them to statuses, domain code never sees HTTP. */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'VALIDATION_FAILED'
  | 'UNAUTHORIZED'
  | 'POLICY_REFUSED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNKNOWN_REQUEST_NAME'
  | 'NOT_SUPPORTED'
  | 'UNKNOWN_REGISTRY'
  | 'REQUEST_TIMEOUT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'CONFIG_INVALID'
  | 'BACKEND_UNAVAILABLE'
  | 'OVERLOADED'
  | 'INTERNAL';

/** Base class of every error this service raises on purpose. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Input that fails a schema or a rule; `details` lists `{path, message}` items. */
export class ValidationError extends AppError {
  constructor(message: string, details?: { path: string; message: string }[]) {
    super('VALIDATION_FAILED', message, details);
  }
}

/**
 * A backend (ECS, Docker) could not answer; callers must treat its view as unknown, never as empty. `throttled`: the
 * backend paced the request (ECS ThrottlingException after the SDK's retries) — try again later, nothing is wrong.
 */
export class BackendUnavailableError extends AppError {
  readonly throttled: boolean;

  constructor(message: string, options?: { cause?: unknown; throttled?: boolean }) {
    super('BACKEND_UNAVAILABLE', message);
    if (options?.cause !== undefined) this.cause = options.cause;
    this.throttled = options?.throttled ?? false;
  }
}

/** The message of anything thrown, for logs and reports. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The message of anything thrown with the chain of its causes: fetch's bare `fetch failed` becomes
 * `fetch failed (connect ECONNREFUSED 127.0.0.1:9)`, so an operator sees why a peer could not be reached.
 */
export function errorWithCauses(err: unknown): string {
  let text = errorMessage(err);
  let cause = err instanceof Error ? err.cause : undefined;
  for (let depth = 0; cause !== undefined && cause !== null && depth < 4; depth++) {
    const message = errorMessage(cause);
    const code = (cause as { code?: unknown }).code;
    const part = typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
    if (part && !text.includes(part)) text += ` (${part})`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text;
}
