/** Stable error codes; the HTTP error handler maps them to statuses, domain code never sees HTTP. */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'VALIDATION_FAILED'
  | 'UNAUTHORIZED'
  | 'POLICY_REFUSED'
  | 'NOT_FOUND'
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
