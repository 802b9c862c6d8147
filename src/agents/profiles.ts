import { createHash } from 'node:crypto';
import { ValidationError } from '../errors.js';
import { clip } from '../text.js';
import type { DockerMode, PropertyDef } from './profile-properties.js';

/** A validation problem in GoCD's shape (`validate-*-profile` answers a list of these). */
export interface PropertyProblem {
  key: string;
  message: string;
}

/** Profile properties as GoCD sends them (strings; validation requests may carry nulls). */
export type RawProperties = Readonly<Record<string, unknown>>;

/**
 * A cluster profile, parsed and defaulted: what every backend shares. The parsed object also carries its backend's
 * own settings (the ECS cluster, the Docker engine …), declared, parsed and validated by that backend
 * (`BackendProfiles`); the lifecycle never reads them.
 */
export interface ClusterProfile {
  clusterId: string;
  goServerUrl: string;
  /** The backend that runs its agents (`ecs`, `docker`). */
  backend: string;
  /**
   * Where its agents run, in words (`ECS cluster ci-agents in eu-west-1`, `Docker engine local`); each value the
   * request brought clipped to VALUE_MAX (notice-texts.ts).
   */
  where: string;
  environment: Record<string, string>;
  maxAgents: number;
  registrationTimeoutMinutes: number;
  idleTimeoutMinutes: number;
  allowPrivileged: boolean;
  allowSocketMount: boolean;
}

/** An elastic agent profile, parsed and defaulted: what every backend reads (a backend may add its own settings). */
export interface ElasticProfile {
  image: string;
  cpu: number;
  memory: number;
  dockerMode: DockerMode;
  /** privileged/sidecar: the daemon's capabilities; empty means full privilege. */
  capabilities: string[];
  dindImage: string;
  environment: Record<string, string>;
  command: string[];
  /** Fresh agents kept waiting for this profile's jobs (DESIGN.md "Warm pools"); size 0: none. */
  warmPool: { size: number; idleMinutes: number; schedule?: string };
}

/** A property's value: absent, null (GoCD sends nulls in validation requests) and blank all mean "not set". */
export function readString(raw: RawProperties, key: string): string | undefined {
  const v = raw[key];
  if (v === null || v === undefined) return undefined;
  const s = typeof v === 'string' ? v.trim() : String(v);
  return s === '' ? undefined : s;
}

/** A `true`/`false` property (default false). */
export function readBool(raw: RawProperties, key: string): boolean {
  return (readString(raw, key) ?? 'false').toLowerCase() === 'true';
}

/** A whole-number property, or `fallback` when unset. */
export function readInt(raw: RawProperties, key: string, fallback: number): number {
  const v = readString(raw, key);
  return v === undefined ? fallback : Number(v);
}

/** A comma- or space-separated list property. */
export function readList(raw: RawProperties, key: string): string[] {
  const text = readString(raw, key);
  return text ? text.split(/[,\s]+/).filter((s) => s !== '') : [];
}

/** The `capabilities` list as Linux capability names (a `CAP_` prefix, as in capabilities(7), is dropped). */
export function capabilityNames(raw: RawProperties): string[] {
  return readList(raw, 'capabilities').map((c) => c.replace(/^CAP_/, ''));
}

/** `KEY=VALUE` lines; blank lines and `#` comments are skipped. */
export function parseEnvLines(text: string | undefined): { env: Record<string, string>; problems: string[] } {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  if (!text) return { env, problems };
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const eq = t.indexOf('=');
    // Stryker disable next-line StringLiteral: a line without a key is refused below; any other string that is not a variable name would be refused the same way
    const key = eq > 0 ? t.slice(0, eq).trim() : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      problems.push(`line ${i + 1} is not KEY=VALUE with a valid variable name`);
      return;
    }
    // The GO_EA_* registration variables are the job's (server URL, key, agent id, GoCD environment): a profile that
    // set one could, for instance, register its agent into another GoCD environment when the job names none.
    if (key.startsWith('GO_EA_')) {
      problems.push(`line ${i + 1}: ${clip(key, 100)} is set by gocd-agent-scaler for each job; remove it`);
      return;
    }
    env[key] = t.slice(eq + 1);
  });
  return { env, problems };
}

function checkValue(def: PropertyDef, value: string): string | undefined {
  switch (def.kind) {
    case 'url':
      return /^https?:\/\/[^\s/]+/.test(value) ? undefined : `${def.key} must be an http(s) URL`;
    case 'int': {
      if (!/^\d+$/.test(value)) return `${def.key} must be a whole number, got '${clip(value, 100)}'`;
      const n = Number(value);
      if (def.min !== undefined && n < def.min) return `${def.key} must be at least ${def.min}`;
      if (def.max !== undefined && n > def.max) return `${def.key} must be at most ${def.max}`;
      return undefined;
    }
    case 'bool':
      return /^(true|false)$/i.test(value) ? undefined : `${def.key} must be true or false, got '${clip(value, 100)}'`;
    case 'enum':
      // Stryker disable OptionalChaining: every enum row (backend, docker_mode, launch_type) lists its options
      return def.options?.includes(value)
        ? undefined
        : `${def.key} must be one of ${def.options?.join(', ')}; got '${clip(value, 100)}'`;
    // Stryker restore OptionalChaining
    case 'cluster-id':
      return CLUSTER_ID_PATTERN.test(value) ? undefined : `${def.key} must be 1 to 18 of A-Z a-z 0-9 _ -`;
    case 'env': {
      const { problems } = parseEnvLines(value);
      return problems.length ? `${def.key}: ${problems.join('; ')}` : undefined;
    }
    default:
      return def.check?.(value);
  }
}

/** Hosts that name the machine itself: from an agent (a container, an ECS task) they are the agent, not GoCD. */
const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\]|\[0:0:0:0:0:0:0:1\]|0\.0\.0\.0)$/i;

/** True when a URL's host is a loopback address (localhost, 127.0.0.0/8, ::1) or the unspecified 0.0.0.0. */
export function isLoopbackUrl(url: string): boolean {
  try {
    return LOOPBACK_HOST.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * `go_server_url` on a loopback address, for a backend whose agents run on another machine (ECS, a remote Docker
 * engine): the agent would try to register with itself. `where` says where the agents run.
 */
export function unreachableServerUrlProblem(raw: RawProperties, where: string): PropertyProblem[] {
  const url = readString(raw, 'go_server_url');
  if (url === undefined || !isLoopbackUrl(url)) return [];
  return [
    {
      key: 'go_server_url',
      message: `go_server_url ${clip(url, 100)} is a loopback address: agents ${where} cannot reach GoCD there; use an address they can reach (the server's host name or IP)`,
    },
  ];
}

/** Field-by-field validation against a property table: required keys, value formats, unknown keys. */
export function validateAgainst(defs: readonly PropertyDef[], raw: RawProperties): PropertyProblem[] {
  const problems: PropertyProblem[] = [];
  const known = new Set(defs.map((d) => d.key));
  for (const key of Object.keys(raw)) {
    if (!known.has(key))
      problems.push({ key, message: `unknown property '${clip(key, 100)}'; known: ${[...known].join(', ')}` });
  }
  for (const def of defs) {
    const value = readString(raw, def.key);
    if (value === undefined) {
      if (def.required) problems.push({ key: def.key, message: `${def.key} must not be blank` });
      continue;
    }
    const message = checkValue(def, value);
    if (message) problems.push({ key: def.key, message });
  }
  return problems;
}

/** Throws a ValidationError naming every problem (a profile is parsed only once it has none). */
export function failIfAny(what: string, problems: PropertyProblem[]): void {
  if (problems.length > 0) {
    throw new ValidationError(
      `invalid ${what}: ${problems.map((p) => p.message).join('; ')}`,
      problems.map((p) => ({ path: p.key, message: p.message })),
    );
  }
}

/** A valid `cluster_id`: at most 18 of A-Z a-z 0-9 _ - (so it fits in agent ids, tags, store keys and labels). */
export const CLUSTER_ID_PATTERN = /^[A-Za-z0-9_-]{1,18}$/;

/** Default cluster id: a 12-hex hash of the (non-blank) properties, independent of key order. */
export function defaultClusterId(raw: RawProperties): string {
  const canonical = Object.keys(raw)
    .filter((k) => readString(raw, k) !== undefined)
    .sort()
    .map((k) => `${k}=${readString(raw, k)}`)
    .join('\n');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

/**
 * The cluster id a cluster profile's properties give: its (trimmed) `cluster_id`, else the hash of its properties.
 * Also for a profile that does not parse, where the id may be anything the request sent (check CLUSTER_ID_PATTERN
 * before using it in a key).
 */
export function clusterIdOfProperties(raw: RawProperties): string {
  return readString(raw, 'cluster_id') ?? defaultClusterId(raw);
}

/** Rules across the shared elastic-profile fields (no cluster is known when GoCD validates a profile). */
export function sharedElasticProblems(raw: RawProperties): PropertyProblem[] {
  const problems: PropertyProblem[] = [];
  const mode = readString(raw, 'docker_mode');
  if (readString(raw, 'capabilities') && mode !== 'privileged' && mode !== 'sidecar') {
    problems.push({ key: 'capabilities', message: 'capabilities apply only to docker_mode privileged or sidecar' });
  }
  if (readString(raw, 'dind_image') && mode !== 'sidecar') {
    problems.push({ key: 'dind_image', message: 'dind_image applies only to docker_mode sidecar' });
  }
  return problems;
}

/** The shared part of a cluster profile (properties already validated); `backend` and `where` come from its backend. */
export function parseSharedCluster(raw: RawProperties): Omit<ClusterProfile, 'backend' | 'where'> {
  return {
    clusterId: clusterIdOfProperties(raw),
    goServerUrl: readString(raw, 'go_server_url')!,
    environment: parseEnvLines(readString(raw, 'environment')).env,
    maxAgents: readInt(raw, 'max_agents', 10),
    registrationTimeoutMinutes: readInt(raw, 'registration_timeout_minutes', 10),
    idleTimeoutMinutes: readInt(raw, 'idle_timeout_minutes', 0),
    allowPrivileged: readBool(raw, 'allow_privileged'),
    allowSocketMount: readBool(raw, 'allow_socket_mount'),
  };
}

/** The shared part of an elastic agent profile (properties already validated). */
export function parseSharedElastic(raw: RawProperties): ElasticProfile {
  return {
    image: readString(raw, 'image')!,
    cpu: readInt(raw, 'cpu', 1024),
    memory: readInt(raw, 'memory', 2048),
    dockerMode: (readString(raw, 'docker_mode') as DockerMode | undefined) ?? 'none',
    capabilities: capabilityNames(raw),
    dindImage: readString(raw, 'dind_image') ?? 'docker:dind',
    environment: parseEnvLines(readString(raw, 'environment')).env,
    command: (readString(raw, 'command') ?? '').split(/\r?\n/).filter((l) => l.trim() !== ''),
    warmPool: {
      size: readInt(raw, 'warm_pool_size', 0),
      idleMinutes: readInt(raw, 'warm_pool_idle_minutes', 60),
      ...(readString(raw, 'warm_pool_schedule') ? { schedule: readString(raw, 'warm_pool_schedule')! } : {}),
    },
  };
}

/** Each Docker mode's gate on the cluster profile: the refusal, or undefined. */
export function gateRefusal(cluster: ClusterProfile, profile: ElasticProfile): string | undefined {
  const mode = profile.dockerMode;
  if ((mode === 'privileged' || mode === 'sidecar') && !cluster.allowPrivileged) {
    return `docker_mode ${mode} needs allow_privileged=true on the cluster profile`;
  }
  if (mode === 'socket' && !cluster.allowSocketMount) {
    return 'docker_mode socket needs allow_socket_mount=true on the cluster profile';
  }
  return undefined;
}

/** JSON with sorted object keys, so equal content hashes equally. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
