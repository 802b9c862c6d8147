import { createHash } from 'node:crypto';
import { ValidationError } from '../errors.js';
import { clip } from '../text.js';
import { clusterRuleProblems, elasticRuleProblems, launchRuleRefusal } from './ecs-profile-rules.js';
import {
  CLUSTER_PROFILE_PROPERTIES,
  type DockerMode,
  ELASTIC_PROFILE_PROPERTIES,
  type LaunchType,
  type PropertyDef,
} from './profile-properties.js';

/** A validation problem in GoCD's shape (`validate-*-profile` answers a list of these). */
export interface PropertyProblem {
  key: string;
  message: string;
}

/** A cluster profile, parsed and defaulted. */
export interface ClusterProfile {
  clusterId: string;
  goServerUrl: string;
  backend: 'ecs' | 'docker';
  region?: string;
  cluster?: string;
  launchType?: LaunchType;
  capacityProvider?: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  executionRoleArn?: string;
  dockerHost?: string;
  network?: string;
  assumeRoleArn?: string;
  logGroup?: string;
  environment: Record<string, string>;
  /** ECS socket mode: the janitor container's image. */
  janitorImage: string;
  maxAgents: number;
  registrationTimeoutMinutes: number;
  idleTimeoutMinutes: number;
  allowPrivileged: boolean;
  allowSocketMount: boolean;
}

/** An elastic agent profile, parsed and defaulted. */
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
  taskRoleArn?: string;
  repositoryCredentials?: string;
  enableExecuteCommand: boolean;
  taskDefinition?: string;
}

type Raw = Record<string, unknown>;

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:.+$/;
const TASK_DEF =
  /^([A-Za-z0-9_-]{1,255}(:\d+)?|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}(:\d+)?)$/;

/** Absent, null (GoCD sends nulls in validation requests) and blank all mean "not set". */
function str(raw: Raw, key: string): string | undefined {
  const v = raw[key];
  if (v === null || v === undefined) return undefined;
  const s = typeof v === 'string' ? v.trim() : String(v);
  return s === '' ? undefined : s;
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
    const key = eq > 0 ? t.slice(0, eq).trim() : '';
    if (!ENV_KEY.test(key)) {
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

function splitList(text: string | undefined): string[] {
  return text ? text.split(/[,\s]+/).filter((s) => s !== '') : [];
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
      return def.options?.includes(value)
        ? undefined
        : `${def.key} must be one of ${def.options?.join(', ')}; got '${clip(value, 100)}'`;
    case 'cluster-id':
      return CLUSTER_ID_PATTERN.test(value) ? undefined : `${def.key} must be 1 to 18 of A-Z a-z 0-9 _ -`;
    case 'arn':
      return ARN.test(value) ? undefined : `${def.key} must be an ARN (arn:aws:...)`;
    case 'task-definition':
      if (!TASK_DEF.test(value)) return `${def.key} must be family, family:revision or a task-definition ARN`;
      // gocd-agent-<hash> families are registered by this service for other profiles, whose gates they passed.
      return /(^|task-definition\/)gocd-agent-/.test(value)
        ? `${def.key} must name a family of your own, not one gocd-agent-scaler registers (gocd-agent-*)`
        : undefined;
    case 'env': {
      const { problems } = parseEnvLines(value);
      return problems.length ? `${def.key}: ${problems.join('; ')}` : undefined;
    }
    default:
      return undefined;
  }
}

/** Field-by-field validation against a property table: required keys, value formats, unknown keys. */
function validateAgainst(defs: readonly PropertyDef[], raw: Raw): PropertyProblem[] {
  const problems: PropertyProblem[] = [];
  const known = new Set(defs.map((d) => d.key));
  for (const key of Object.keys(raw)) {
    if (!known.has(key))
      problems.push({ key, message: `unknown property '${clip(key, 100)}'; known: ${[...known].join(', ')}` });
  }
  for (const def of defs) {
    const value = str(raw, def.key);
    if (value === undefined) {
      if (def.required) problems.push({ key: def.key, message: `${def.key} must not be blank` });
      continue;
    }
    const message = checkValue(def, value);
    if (message) problems.push({ key: def.key, message });
  }
  return problems;
}

/** How ECS launches a cluster profile's tasks: launch type (EC2 by default) or capacity provider, network, roles. */
function ecsLaunch(raw: Raw) {
  const capacityProvider = str(raw, 'capacity_provider');
  return {
    launchType: (str(raw, 'launch_type') as LaunchType | undefined) ?? (capacityProvider ? undefined : 'EC2'),
    capacityProvider,
    subnets: splitList(str(raw, 'subnets')),
    securityGroups: splitList(str(raw, 'security_groups')),
    assignPublicIp: bool(raw, 'assign_public_ip'),
    executionRoleArn: str(raw, 'execution_role_arn'),
    logGroup: str(raw, 'log_group'),
  };
}

/** validate-cluster-profile: field problems plus cross-field rules. */
export function validateClusterProperties(raw: Raw): PropertyProblem[] {
  const problems = validateAgainst(CLUSTER_PROFILE_PROPERTIES, raw);
  const backend = str(raw, 'backend') ?? (str(raw, 'cluster') ? 'ecs' : 'docker');
  if (str(raw, 'launch_type') && str(raw, 'capacity_provider')) {
    problems.push({ key: 'capacity_provider', message: 'set either launch_type or capacity_provider, not both' });
  }
  if (backend === 'ecs' && !str(raw, 'cluster')) {
    problems.push({ key: 'cluster', message: 'cluster must not be blank when backend is ecs' });
  }
  if (backend === 'ecs') problems.push(...clusterRuleProblems(ecsLaunch(raw)));
  return problems;
}

/** validate-elastic-agent-profile: field problems plus rules that need no cluster. */
export function validateElasticProperties(raw: Raw): PropertyProblem[] {
  const problems = validateAgainst(ELASTIC_PROFILE_PROPERTIES, raw);
  const mode = str(raw, 'docker_mode') ?? 'none';
  if (str(raw, 'capabilities') && mode !== 'privileged' && mode !== 'sidecar') {
    problems.push({ key: 'capabilities', message: 'capabilities apply only to docker_mode privileged or sidecar' });
  }
  if (str(raw, 'dind_image') && mode !== 'sidecar') {
    problems.push({ key: 'dind_image', message: 'dind_image applies only to docker_mode sidecar' });
  }
  problems.push(
    ...elasticRuleProblems({
      enableExecuteCommand: bool(raw, 'enable_execute_command'),
      taskRoleArn: str(raw, 'task_role_arn'),
      taskDefinition: str(raw, 'task_definition'),
      capabilities: capabilityNames(str(raw, 'capabilities')),
    }),
  );
  return problems;
}

/** The `capabilities` list as ECS names (a `CAP_` prefix, as in capabilities(7), is dropped). */
function capabilityNames(text: string | undefined): string[] {
  return splitList(text).map((c) => c.replace(/^CAP_/, ''));
}

function failIfAny(what: string, problems: PropertyProblem[]): void {
  if (problems.length > 0) {
    throw new ValidationError(
      `invalid ${what}: ${problems.map((p) => p.message).join('; ')}`,
      problems.map((p) => ({ path: p.key, message: p.message })),
    );
  }
}

function bool(raw: Raw, key: string): boolean {
  return (str(raw, key) ?? 'false').toLowerCase() === 'true';
}

function int(raw: Raw, key: string, fallback: number): number {
  const v = str(raw, key);
  return v === undefined ? fallback : Number(v);
}

/** A valid `cluster_id`: at most 18 of A-Z a-z 0-9 _ - (so it fits in agent ids, tags, store keys and labels). */
export const CLUSTER_ID_PATTERN = /^[A-Za-z0-9_-]{1,18}$/;

/**
 * The cluster id a cluster profile's properties give: its (trimmed) `cluster_id`, else the hash of its properties.
 * Also for a profile that does not parse, where the id may be anything the request sent (check CLUSTER_ID_PATTERN
 * before using it in a key).
 */
export function clusterIdOfProperties(raw: Raw): string {
  return str(raw, 'cluster_id') ?? defaultClusterId(raw);
}

/** Default cluster id: a 12-hex hash of the (non-blank) properties, independent of key order. */
export function defaultClusterId(raw: Raw): string {
  const canonical = Object.keys(raw)
    .filter((k) => str(raw, k) !== undefined)
    .sort()
    .map((k) => `${k}=${str(raw, k)}`)
    .join('\n');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

/** Parses a cluster profile's properties; throws ValidationError naming every problem. */
export function parseClusterProfile(raw: Raw): ClusterProfile {
  failIfAny('cluster profile', validateClusterProperties(raw));
  const cluster = str(raw, 'cluster');
  return {
    clusterId: clusterIdOfProperties(raw),
    goServerUrl: str(raw, 'go_server_url')!,
    backend: (str(raw, 'backend') as 'ecs' | 'docker' | undefined) ?? (cluster ? 'ecs' : 'docker'),
    region: str(raw, 'region'),
    cluster,
    ...ecsLaunch(raw),
    dockerHost: str(raw, 'docker_host'),
    network: str(raw, 'network'),
    assumeRoleArn: str(raw, 'assume_role_arn'),
    environment: parseEnvLines(str(raw, 'environment')).env,
    janitorImage: str(raw, 'janitor_image') ?? 'gocd-agent-scaler-janitor:latest',
    maxAgents: int(raw, 'max_agents', 10),
    registrationTimeoutMinutes: int(raw, 'registration_timeout_minutes', 10),
    idleTimeoutMinutes: int(raw, 'idle_timeout_minutes', 0),
    allowPrivileged: bool(raw, 'allow_privileged'),
    allowSocketMount: bool(raw, 'allow_socket_mount'),
  };
}

/** Parses an elastic agent profile's properties; throws ValidationError naming every problem. */
export function parseElasticProfile(raw: Raw): ElasticProfile {
  failIfAny('elastic agent profile', validateElasticProperties(raw));
  return {
    image: str(raw, 'image')!,
    cpu: int(raw, 'cpu', 1024),
    memory: int(raw, 'memory', 2048),
    dockerMode: (str(raw, 'docker_mode') as DockerMode | undefined) ?? 'none',
    capabilities: capabilityNames(str(raw, 'capabilities')),
    dindImage: str(raw, 'dind_image') ?? 'docker:dind',
    environment: parseEnvLines(str(raw, 'environment')).env,
    command: (str(raw, 'command') ?? '').split(/\r?\n/).filter((l) => l.trim() !== ''),
    taskRoleArn: str(raw, 'task_role_arn'),
    repositoryCredentials: str(raw, 'repository_credentials'),
    enableExecuteCommand: bool(raw, 'enable_execute_command'),
    taskDefinition: str(raw, 'task_definition'),
  };
}

/**
 * Rules that need both profiles, checked at create-agent (profile validation never sees the cluster): ECS's linked
 * rules (Fargate: no Docker mode, a Fargate task size; repository credentials need an execution role) and each Docker
 * mode's gate. Returns a refusal reason or undefined.
 */
export function launchRefusal(cluster: ClusterProfile, profile: ElasticProfile): string | undefined {
  const mode = profile.dockerMode;
  if (cluster.backend === 'ecs') {
    const refusal = launchRuleRefusal({ cluster, profile });
    if (refusal) return refusal;
  }
  if (mode === 'none') return undefined;
  if ((mode === 'privileged' || mode === 'sidecar') && !cluster.allowPrivileged) {
    return `docker_mode ${mode} needs allow_privileged=true on the cluster profile`;
  }
  if (mode === 'socket' && !cluster.allowSocketMount) {
    return 'docker_mode socket needs allow_socket_mount=true on the cluster profile';
  }
  return undefined;
}

/** Content hash of what a task definition is built from (family `gocd-agent-<hash>`). */
export function profileHash(cluster: ClusterProfile, profile: ElasticProfile): string {
  const relevant = {
    profile,
    executionRoleArn: cluster.executionRoleArn,
    logGroup: cluster.logGroup,
    region: cluster.region,
    launchType: cluster.launchType,
    // A FARGATE(_SPOT) capacity provider changes compatibilities and networking; the janitor image is in socket
    // definitions. Without them, two profiles differing only there would share a family and re-register in turn.
    capacityProvider: cluster.capacityProvider,
    janitorImage: profile.dockerMode === 'socket' ? cluster.janitorImage : undefined,
    awsvpc: cluster.subnets.length > 0 || cluster.launchType === 'FARGATE',
    clusterEnv: cluster.environment,
  };
  return createHash('sha256').update(stableJson(relevant)).digest('hex').slice(0, 16);
}

/** JSON with sorted object keys, so equal content hashes equally. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Raw)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Raw)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
