/**
 * The cluster-profile and elastic-profile properties (DESIGN.md): one table each, from which the GoCD metadata,
 * the HTML views and the validation are all derived.
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
  kind:
    | 'string'
    | 'url'
    | 'int'
    | 'bool'
    | 'enum'
    | 'list'
    | 'env'
    | 'lines'
    | 'cluster-id'
    | 'arn'
    | 'task-definition';
  min?: number;
  max?: number;
}

export const DOCKER_MODES = ['none', 'privileged', 'sidecar', 'socket'] as const;
export type DockerMode = (typeof DOCKER_MODES)[number];
export const LAUNCH_TYPES = ['EC2', 'FARGATE', 'EXTERNAL'] as const;
export type LaunchType = (typeof LAUNCH_TYPES)[number];

export const CLUSTER_PROFILE_PROPERTIES: readonly PropertyDef[] = [
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
    options: ['ecs', 'docker'],
    help: 'ecs or docker; default ecs when an ECS cluster is set, else the local Docker engine.',
  },
  {
    key: 'cluster_id',
    label: 'Cluster id',
    kind: 'cluster-id',
    help: 'Stable name for this profile (at most 18 of A-Z a-z 0-9 _ -); default a hash of the properties. Set it, so editing the profile keeps its agents.',
  },
  {
    key: 'region',
    label: 'AWS region',
    kind: 'string',
    help: 'Region of the ECS cluster; default the standard AWS configuration.',
  },
  { key: 'cluster', label: 'ECS cluster', kind: 'string', help: 'Name or ARN of the ECS cluster agents run in.' },
  {
    key: 'launch_type',
    label: 'Launch type',
    kind: 'enum',
    options: LAUNCH_TYPES,
    help: 'EC2 (default), FARGATE or EXTERNAL; leave empty when a capacity provider is set.',
  },
  {
    key: 'capacity_provider',
    label: 'Capacity provider',
    kind: 'string',
    help: 'Capacity provider to launch with instead of a launch type.',
  },
  {
    key: 'subnets',
    label: 'Subnets',
    kind: 'list',
    help: 'Comma-separated subnet ids (awsvpc networking; required for Fargate).',
  },
  {
    key: 'security_groups',
    label: 'Security groups',
    kind: 'list',
    help: 'Comma-separated security group ids (awsvpc).',
  },
  {
    key: 'assign_public_ip',
    label: 'Assign public IP',
    kind: 'bool',
    help: 'true to give Fargate tasks a public IP (no NAT gateway).',
  },
  {
    key: 'execution_role_arn',
    label: 'Task execution role ARN',
    kind: 'arn',
    help: 'Role ECS uses to pull images and write logs.',
  },
  {
    key: 'docker_host',
    label: 'Docker host',
    kind: 'string',
    help: 'Docker backend: engine address (unix:///var/run/docker.sock default, or tcp://host:2375).',
  },
  {
    key: 'network',
    label: 'Docker network',
    kind: 'string',
    help: 'Docker backend: network agents join (default bridge).',
  },
  {
    key: 'assume_role_arn',
    label: 'Assume role ARN',
    kind: 'arn',
    help: "Role to assume for another account's ECS cluster.",
  },
  {
    key: 'log_group',
    label: 'CloudWatch log group',
    kind: 'string',
    help: 'awslogs group for agent containers; the status report links each stream.',
  },
  {
    key: 'environment',
    label: 'Environment',
    kind: 'env',
    multiline: true,
    help: 'KEY=VALUE lines set on every agent.',
  },
  {
    key: 'janitor_image',
    label: 'Janitor image',
    kind: 'string',
    help: 'ECS socket mode: image of the janitor container (built from docker/janitor/) that removes the containers a job started through the host socket.',
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

export const ELASTIC_PROFILE_PROPERTIES: readonly PropertyDef[] = [
  {
    key: 'image',
    label: 'Image',
    required: true,
    kind: 'string',
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
  { key: 'task_role_arn', label: 'Task role ARN', kind: 'arn', help: 'ECS: IAM role the job runs with.' },
  {
    key: 'repository_credentials',
    label: 'Repository credentials',
    kind: 'arn',
    help: 'ECS: Secrets Manager ARN with private-registry credentials.',
  },
  {
    key: 'enable_execute_command',
    label: 'Enable ECS Exec',
    kind: 'bool',
    help: 'ECS: allow ECS Exec into a running agent for debugging.',
  },
  {
    key: 'task_definition',
    label: 'Task definition',
    kind: 'task-definition',
    help: 'ECS: use this existing family[:revision] or ARN instead of registering one.',
  },
];
