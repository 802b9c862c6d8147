import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type Bindings = Record<string, unknown>;
type ChildOptions = { level?: string } & Record<string, unknown>;
/** The pino surface this wrapper relies on (Fastify's base logger plus level checks). */
type PinoLike = FastifyBaseLogger & {
  isLevelEnabled(level: string): boolean;
  levels: { values: Record<string, number> };
};

/**
 * Fastify's per-request logger, created only when the request logs something at an enabled level.
 *
 * Fastify makes a pino child (bound to the request id) for every request; with the service's redaction paths that
 * child costs more than the rest of a should-assign-work answer (redaction runs over the bindings and allocates),
 * and most requests never log at an enabled level. Lines that are written are the same as the eager child's.
 */
export class LazyRequestLogger {
  #child: FastifyBaseLogger | undefined;
  readonly #parent: PinoLike;
  readonly #bindings: Bindings;
  readonly #options: ChildOptions;

  constructor(parent: PinoLike, bindings: Bindings, options: ChildOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  get level(): string {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.#real().level = level;
  }

  isLevelEnabled(level: string): boolean {
    if (this.#child) return (this.#child as PinoLike).isLevelEnabled(level);
    const values = this.#parent.levels.values;
    const threshold = this.#options.level ?? this.#parent.level;
    return (values[level] ?? 0) >= (values[threshold] ?? Number.POSITIVE_INFINITY);
  }

  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }

  #write(level: Level, args: unknown[]): void {
    if (!this.isLevelEnabled(level)) return;
    (this.#real()[level] as (...a: unknown[]) => void)(...args);
  }

  #real(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }
}

/** Fastify's `childLoggerFactory` making each request's logger lazily (see LazyRequestLogger). */
export const lazyChildLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  logger,
  bindings,
  options,
) => new LazyRequestLogger(logger as PinoLike, bindings, options as ChildOptions) as unknown as FastifyBaseLogger;
