import { imageReferenceCheck } from './image-reference.js';
import { scheduleProblem } from './pool-schedule.js';

/**
 * The cluster-profile and elastic-profile properties every backend shares (DESIGN.md). With the rows each backend
 * contributes (its `BackendProfiles`), they make one table per profile kind (src/agents/profile-catalog.ts), from
 * which the GoCD metadata, the HTML views and the validation are all derived.
 */
export interface PropertyDef {
  key: string;
  label: string;
  required?: boolean;
  secure?: boolean;
  /** Shown under the field in GoCD's form. */
  help: string;
  /** Rendered as a select when present. */
  options?: readonly string[];
  /** Rendered as a textarea (multi-line values). */
  multiline?: boolean;
  kind: 'string' | 'url' | 'int' | 'bool' | 'enum' | 'list' | 'env' | 'lines' | 'cluster-id';
  min?: number;
  max?: number;
  /** A format of the backend's own (an ARN, a task definition reference): the problem with `value`, or undefined. */
  check?: (value: string) => string | undefined;
}

export const DOCKER_MODES = ['none', 'privileged', 'sidecar', 'socket'] as const;
export type DockerMode = (typeof DOCKER_MODES)[number];

/** The cluster profile's first rows (the backend's rows follow them). `backend` lists every backend of the catalog. */
export const CLUSTER_PROFILE_HEAD: readonly PropertyDef[] = [
  {
    key: 'go_server_url',
    label: 'GoCD server URL',
    required: true,
    kind: 'url',
    help: 'URL agents register with, ending in /go (GO_EA_SERVER_URL).',
  },
  {
    key: 'backend',
    label: 'Backend',
    kind: 'enum',
    options: [],
    help: 'ecs or docker; default ecs when an ECS cluster is set, else the local Docker engine.',
  },
  {
    key: 'cluster_id',
    label: 'Cluster id',
    kind: 'cluster-id',
    help: 'Stable name for this profile (at most 18 of A-Z a-z 0-9 _ -); default a hash of the properties. Set it, so editing the profile keeps its agents.',
  },
];

/** The cluster profile's last rows: every agent's environment, the limits and the privilege gates. */
export const CLUSTER_PROFILE_TAIL: readonly PropertyDef[] = [
  {
    key: 'environment',
    label: 'Environment',
    kind: 'env',
    multiline: true,
    help: 'KEY=VALUE lines set on every agent.',
  },
  {
    key: 'max_agents',
    label: 'Max agents',
    kind: 'int',
    min: 1,
    max: 10000,
    help: 'Pending + running agents allowed at once (default 10).',
  },
  {
    key: 'registration_timeout_minutes',
    label: 'Registration timeout (minutes)',
    kind: 'int',
    min: 1,
    max: 1440,
    help: 'An agent not registered with GoCD after this long is stopped (default 10).',
  },
  {
    key: 'idle_timeout_minutes',
    label: 'Idle timeout (minutes)',
    kind: 'int',
    min: 0,
    max: 1440,
    help: 'Keep an idle agent this long (default 0: stop as soon as its job completes).',
  },
  {
    key: 'allow_privileged',
    label: 'Allow privileged',
    kind: 'bool',
    help: 'true to allow privileged and sidecar (Docker-in-Docker) profiles.',
  },
  {
    key: 'allow_socket_mount',
    label: 'Allow socket mount',
    kind: 'bool',
    help: "true to allow socket profiles (the host's Docker socket: root on the host).",
  },
];

/** The elastic agent profile's rows every backend reads (a backend's own rows follow them). */
export const ELASTIC_PROFILE_CORE: readonly PropertyDef[] = [
  {
    key: 'image',
    label: 'Image',
    required: true,
    kind: 'string',
    check: imageReferenceCheck('image'),
    help: 'GoCD agent image, e.g. gocd/gocd-agent-debian-12:v25.1.0.',
  },
  {
    key: 'cpu',
    label: 'CPU units',
    kind: 'int',
    min: 128,
    max: 196608,
    help: 'CPU units, 1024 per vCPU (default 1024).',
  },
  {
    key: 'memory',
    label: 'Memory (MiB)',
    kind: 'int',
    min: 128,
    max: 983040,
    help: 'Hard memory limit in MiB (default 2048).',
  },
  {
    key: 'docker_mode',
    label: 'Docker mode',
    kind: 'enum',
    options: DOCKER_MODES,
    help: 'none, privileged (DinD in the agent), sidecar (DinD container beside it) or socket (host socket).',
  },
  {
    key: 'capabilities',
    label: 'Capabilities',
    kind: 'list',
    help: 'privileged/sidecar: give the Docker daemon exactly these Linux capabilities (e.g. SYS_ADMIN,NET_ADMIN) instead of full privilege.',
  },
  {
    key: 'dind_image',
    label: 'DinD image',
    kind: 'string',
    check: imageReferenceCheck('dind_image'),
    help: 'sidecar: Docker daemon image (default docker:dind).',
  },
  {
    key: 'environment',
    label: 'Environment',
    kind: 'env',
    multiline: true,
    help: "KEY=VALUE lines, over the cluster profile's.",
  },
  {
    key: 'command',
    label: 'Command',
    kind: 'lines',
    multiline: true,
    help: 'Agent command, one argument per line (default the image entrypoint).',
  },
  {
    key: 'warm_pool_size',
    label: 'Warm pool size',
    kind: 'int',
    min: 0,
    max: 100,
    help: "Fresh agents kept waiting for this profile's jobs (default 0: none). Each takes one job and is then removed; they count against max_agents and the operator's policy.warmPool.",
  },
  {
    key: 'warm_pool_idle_minutes',
    label: 'Warm pool idle minutes',
    kind: 'int',
    min: 1,
    max: 1440,
    help: 'Recycle a pool agent that waited this long (default 60), so pools pick up new image digests.',
  },
  {
    key: 'warm_pool_schedule',
    label: 'Warm pool schedule',
    kind: 'string',
    check: scheduleProblem,
    help: 'When to keep the pool, as a cron expression in UTC (e.g. * 7-18 * * 1-5: weekdays 07:00-18:59); outside it the pool is empty. Default: always.',
  },
];
