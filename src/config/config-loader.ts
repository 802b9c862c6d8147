import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ValidateFunction } from 'ajv';
import { AppError } from '../errors.js';
import { SECRET_CONFIG_KEYS } from '../security/secret-keys.js';
import { schemaProblems } from '../validation.js';
import type { Config } from './config.schema.js';
import { validators } from './generated/config-validator.js';

/** One problem in a config, with the path of the bad key (`/gocd/apiUrl`). */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** Every problem of a config at once, so an operator fixes them in one go. */
export class ConfigError extends AppError {
  constructor(
    readonly source: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      'CONFIG_INVALID',
      `invalid config ${source}:\n${problems.map((p) => `  ${p.path || '/'}: ${p.message}`).join('\n')}`,
    );
  }
}

export interface LoadedConfig {
  config: Readonly<Config>;
  /** True when no forwarder token was configured and one was generated for this process. */
  generatedForwarderToken: boolean;
  source: string;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Lambda: a generated token would differ in every container, so refuse instead. */
  allowGeneratedToken?: boolean;
}

/** The config schema's validator, compiled ahead of time (scripts/generate.ts): it fills the defaults in. */
const validate = validators.config as ValidateFunction<Config>;
const SECRET_KEYS: ReadonlySet<string> = new Set(SECRET_CONFIG_KEYS);

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${NAME}` / `${NAME:-default}` in every string value (never in keys), collecting unset names; a key whose
 * value is null (`key: ~`, `key:`) is dropped, so null means "not set", as an absent key does.
 */
function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: string, problems: ConfigProblem[]): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      problems.push({ path, message: `environment variable ${name} is not set` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, `${path}/${i}`, problems));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== null) out[k] = interpolate(v, env, `${path}/${k}`, problems);
    }
    return out;
  }
  return value;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** A mapping of a document that may not match its schema yet ({} when it is not one). */
const mapping = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Checks the schema cannot express: unique registry names, compilable tag regexes, keys one setting requires of
 * another. They read the document defensively, so they run even when it fails its schema: one pass reports every
 * problem, schema and semantic together.
 */
function semanticProblems(doc: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const registries = list(doc.registries).map(mapping);
  const subscriptions = list(doc.subscriptions).map(mapping);
  const gocd = mapping(doc.gocd);
  const store = mapping(doc.store);
  const seen = new Set<string>();
  registries.forEach((r, i) => {
    const name = text(r.name);
    if (name === undefined) return;
    if (seen.has(name)) problems.push({ path: `/registries/${i}/name`, message: `duplicate registry name '${name}'` });
    seen.add(name);
  });
  subscriptions.forEach((s, i) => {
    if (typeof s.tags !== 'string') return;
    try {
      new RegExp(s.tags);
    } catch (err) {
      problems.push({
        path: `/subscriptions/${i}/tags`,
        message: `not a valid regular expression: ${(err as Error).message}`,
      });
    }
  });
  if (text(gocd.apiUrl) && !text(gocd.apiToken) && subscriptions.length > 0) {
    problems.push({
      path: '/gocd/apiToken',
      message: 'required when subscriptions schedule pipelines through gocd.apiUrl',
    });
  }
  // The status credential opens /status only: equal to a credential that launches agents or triggers pipelines, it
  // would open those too.
  const password = text(mapping(doc.status).password);
  const launching: [string, unknown][] = [
    ['gocd.forwarderToken', gocd.forwarderToken],
    ['gocd.secondaryForwarderToken', gocd.secondaryForwarderToken],
    ...registries.flatMap((r, i): [string, unknown][] => [
      [`registries[${i}].secret`, r.secret],
      [`registries[${i}].secondarySecret`, r.secondarySecret],
    ]),
  ];
  const same = password === undefined ? undefined : launching.find(([, v]) => v === password);
  if (same) {
    problems.push({ path: '/status/password', message: `must differ from ${same[0]} (it opens /status only)` });
  }
  if (store.type === 'dynamodb' && !text(store.tableName)) {
    problems.push({ path: '/store/tableName', message: 'required when store.type is dynamodb' });
  }
  if (subscriptions.length > 0 && !text(gocd.apiUrl)) {
    problems.push({ path: '/gocd/apiUrl', message: 'required when subscriptions are configured' });
  }
  return problems;
}

/**
 * Interpolates, defaults and validates a config document (the parsed YAML or JSON). Throws ConfigError with every
 * problem.
 */
export function parseConfigDocument(document: unknown, source: string, options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const problems: ConfigProblem[] = [];
  let raw = document;
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [{ path: '', message: 'must be a YAML mapping' }]);
  }
  const doc = interpolate(raw, env, '', problems) as Record<string, unknown>;

  // Process-level settings the README documents as environment variables.
  doc.server ??= {};
  doc.gocd ??= {};
  const server = doc.server as Record<string, unknown>;
  // The environment wins over the file (README, the Dockerfile and `serve --help` say so): a container platform or a
  // shell picks the port of one process without editing the shared config. A PORT that is not a port is an error.
  if (env.HOST) server.host = env.HOST;
  if (env.PORT) server.port = /^\d+$/.test(env.PORT) ? Number(env.PORT) : env.PORT;
  const gocd = doc.gocd as Record<string, unknown>;
  if ((gocd.forwarderToken === undefined || gocd.forwarderToken === '') && env.SCALER_FORWARDER_TOKEN) {
    gocd.forwarderToken = env.SCALER_FORWARDER_TOKEN;
  }
  doc.status ??= {};
  const status = doc.status as Record<string, unknown>;
  if ((status.password === undefined || status.password === '') && env.SCALER_STATUS_PASSWORD) {
    status.password = env.SCALER_STATUS_PASSWORD;
  }
  let generated = false;
  if (gocd.forwarderToken === undefined || gocd.forwarderToken === '') {
    if (options.allowGeneratedToken === false) {
      problems.push({
        path: '/gocd/forwarderToken',
        message: 'required (set SCALER_FORWARDER_TOKEN or gocd.forwarderToken)',
      });
    }
    gocd.forwarderToken = randomBytes(24).toString('base64url');
    generated = true;
  }

  if (!validate(doc)) problems.push(...schemaProblems(validate.errors));
  problems.push(...semanticProblems(doc));
  if (problems.length > 0) throw new ConfigError(source, problems);
  return { config: deepFreeze(doc as unknown as Config), generatedForwarderToken: generated, source };
}

/**
 * Parses a config text with `parse` (a YAML parser: JSON is YAML too), then interpolates, defaults and validates it.
 * Throws ConfigError with every problem.
 */
export function parseConfigWith(
  parse: (text: string) => unknown,
  text: string,
  source: string,
  options: LoadOptions = {},
): LoadedConfig {
  let raw: unknown;
  try {
    raw = text.trim() === '' ? {} : parse(text);
  } catch (err) {
    throw new ConfigError(source, [{ path: '', message: `not valid YAML: ${(err as Error).message}` }]);
  }
  return parseConfigDocument(raw, source, options);
}

/**
 * A config text: JSON when it is a JSON object (the Lambda's deployed config: no YAML parser at a cold start), else
 * YAML, whose parser is loaded only then.
 */
async function parseConfigText(text: string, source: string, options: LoadOptions): Promise<LoadedConfig> {
  if (text.trimStart().startsWith('{')) {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      // Not JSON after all (a YAML flow mapping): YAML reads it below.
    }
    if (document !== undefined) return parseConfigDocument(document, source, options);
  }
  const { parse } = await import('yaml');
  return parseConfigWith(parse, text, source, options);
}

/** Loads the config named by `$SCALER_CONFIG`, or the built-in defaults when it is unset. */
export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const file = env.SCALER_CONFIG;
  if (!file) return parseConfigDocument({}, 'built-in defaults', options);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      { path: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` },
    ]);
  }
  return parseConfigText(text, file, options);
}

/** A copy of any config-shaped value with every secret replaced by `***`, safe to log or print. */
export function maskSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEYS.has(k) && typeof v === 'string' && v !== '' ? '***' : maskSecrets(v);
    }
    return out as T;
  }
  return value;
}
