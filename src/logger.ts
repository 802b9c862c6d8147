import { type Logger, type LoggerOptions, pino } from 'pino';
import { SECRET_CONFIG_KEYS } from './security/secret-keys.js';

export type { Logger };

/**
 * Paths pino blanks in every log line: tokens, secrets, signatures and auth headers never reach a log.
 * Code must still never log whole payloads; this is the safety net.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-registry-token"]',
  'headers.authorization',
  // Every config secret, at the top of a logged object or one level down (a logged config section).
  ...SECRET_CONFIG_KEYS.flatMap((key) => [key, `*.${key}`]),
  '*.GO_EA_AUTO_REGISTER_KEY',
  'GO_EA_AUTO_REGISTER_KEY',
  'auto_register_key',
  '*.auto_register_key',
  'autoRegisterKey',
  '*.autoRegisterKey',
  '*.*.autoRegisterKey',
];

/** The service's root logger (JSON lines on stdout, or a given destination for tests). */
export function createLogger(level: string, destination?: NodeJS.WritableStream, sync = false): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'gocd-agent-scaler' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (destination) return pino(options, destination as never);
  return pino(options, pino.destination({ dest: 1, sync }));
}
