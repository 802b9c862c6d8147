import type { LaunchRequest } from '../../agents/agent-backend.port.js';
import { imageReferenceCheck } from '../../agents/image-reference.js';
import { VALUE_MAX } from '../../agents/notice-texts.js';
import { listed, quote } from '../../agents/policy.js';
import type { BackendProfiles } from '../../agents/profile-catalog.js';
import type { PropertyDef } from '../../agents/profile-properties.js';
import {
  type ClusterProfile,
  capabilityNames,
  type ElasticProfile,
  type PropertyProblem,
  type RawProperties,
  readBool,
  readList,
  readString,
  unreachableServerUrlProblem,
} from '../../agents/profiles.js';
import { clip } from '../../text.js';
import { clusterRuleProblems, elasticRuleProblems, launchRuleRefusal } from './ecs-profile-rules.js';

export const LAUNCH_TYPES = ['EC2', 'FARGATE', 'EXTERNAL'] as const;
export type LaunchType = (typeof LAUNCH_TYPES)[number];

/** A cluster profile of the ECS backend: the shared part and how ECS launches its tasks. */
export interface EcsClusterProfile extends ClusterProfile {
  region?: string;
  cluster?: string;
  launchType?: LaunchType;
  capacityProvider?: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  executionRoleArn?: string;
  assumeRoleArn?: string;
  logGroup?: string;
  /** Socket mode: the janitor container's image. */
  janitorImage: string;
}

/** An elastic agent profile as the ECS backend reads it: the shared part and its task's roles and options. */
export interface EcsElasticProfile extends ElasticProfile {
  taskRoleArn?: string;
  repositoryCredentials?: string;
  enableExecuteCommand: boolean;
  taskDefinition?: string;
}

/** A launch on the ECS backend. */
export type EcsLaunchRequest = LaunchRequest<EcsClusterProfile, EcsElasticProfile>;

/** A row holding an ARN. */
function arnRow(key: string, label: string, help: string): PropertyDef {
  return {
    key,
    label,
    kind: 'string',
    help,
    check: (value) =>
      /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:.+$/.test(value)
        ? undefined
        : `${key} must be an ARN (arn:aws:...)`,
  };
}

/** `task_definition`: an existing family[:revision] or ARN of the operator's own, never one this service registers. */
function checkTaskDefinition(value: string): string | undefined {
  const taskDefinition =
    /^([A-Za-z0-9_-]{1,255}(:\d+)?|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}(:\d+)?)$/;
  if (!taskDefinition.test(value)) return 'task_definition must be family, family:revision or a task-definition ARN';
  // gocd-agent-<hash> families are registered by this service for other profiles, whose gates they passed.
  return /(^|task-definition\/)gocd-agent-/.test(value)
    ? 'task_definition must name a family of your own, not one gocd-agent-scaler registers (gocd-agent-*)'
    : undefined;
}

const CLUSTER_ROWS: readonly PropertyDef[] = [
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
  arnRow('execution_role_arn', 'Task execution role ARN', 'Role ECS uses to pull images and write logs.'),
  arnRow('assume_role_arn', 'Assume role ARN', "Role to assume for another account's ECS cluster."),
  {
    key: 'log_group',
    label: 'CloudWatch log group',
    kind: 'string',
    help: 'awslogs group for agent containers; the status report links each stream.',
  },
  {
    key: 'janitor_image',
    label: 'Janitor image',
    kind: 'string',
    check: imageReferenceCheck('janitor_image'),
    help: 'ECS socket mode: image of the janitor container (built from docker/janitor/) that removes the containers a job started through the host socket.',
  },
];

const ELASTIC_ROWS: readonly PropertyDef[] = [
  arnRow('task_role_arn', 'Task role ARN', 'ECS: IAM role the job runs with.'),
  arnRow(
    'repository_credentials',
    'Repository credentials',
    'ECS: Secrets Manager ARN with private-registry credentials.',
  ),
  {
    key: 'enable_execute_command',
    label: 'Enable ECS Exec',
    kind: 'bool',
    help: 'ECS: allow ECS Exec into a running agent for debugging.',
  },
  {
    key: 'task_definition',
    label: 'Task definition',
    kind: 'string',
    help: 'ECS: use this existing family[:revision] or ARN instead of registering one.',
    check: checkTaskDefinition,
  },
];

/** How ECS launches a cluster profile's tasks: launch type (EC2 by default) or capacity provider, network, roles. */
function ecsLaunch(raw: RawProperties) {
  const capacityProvider = readString(raw, 'capacity_provider');
  return {
    launchType: (readString(raw, 'launch_type') as LaunchType | undefined) ?? (capacityProvider ? undefined : 'EC2'),
    capacityProvider,
    subnets: readList(raw, 'subnets'),
    securityGroups: readList(raw, 'security_groups'),
    assignPublicIp: readBool(raw, 'assign_public_ip'),
    executionRoleArn: readString(raw, 'execution_role_arn'),
    logGroup: readString(raw, 'log_group'),
  };
}

/** The region and account an ECS cluster ARN names (`arn:aws:ecs:<region>:<account>:cluster/<name>`). */
function clusterArnParts(cluster: string): { region: string; account: string; name: string } | undefined {
  const m = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):(\d{12}):cluster\/(.+)$/.exec(cluster);
  return m ? { region: m[1]!, account: m[2]!, name: m[3]! } : undefined;
}

function roleAccount(arn: string | undefined): string | undefined {
  return arn ? /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(arn)?.[1] : undefined;
}

/**
 * A `policy.ecs.clusters` entry naming every cluster of one account: `arn:<partition>:ecs:<region or *>:<account>:
 * cluster/*` (the CDK stack writes one per cross-account role: that account's cluster names are its own).
 */
function accountWildcard(entry: string): { region: string; account: string } | undefined {
  const m = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+|\*):(\d{12}):cluster\/\*$/.exec(entry);
  return m ? { region: m[1]!, account: m[2]! } : undefined;
}

/**
 * Whether a `policy.ecs.clusters` entry allows the profile's cluster: the same name or ARN; a bare name also matches
 * an ARN of that name; an account wildcard matches a cluster whose account is known to be that one (its ARN's, else
 * its `assume_role_arn`'s: a bare name without a role is a cluster of the service's own account, never another's).
 */
function clusterEntryAllows(entry: string, cluster: EcsClusterProfile): boolean {
  // Stryker disable next-line StringLiteral: policyRefusal asks only for a profile that names its cluster
  const named = cluster.cluster ?? '';
  const arn = clusterArnParts(named);
  if (entry === named) return true;
  if (!entry.startsWith('arn:')) return entry === (arn?.name ?? named);
  const wildcard = accountWildcard(entry);
  if (!wildcard) return false;
  const account = arn?.account ?? roleAccount(cluster.assumeRoleArn);
  const region = arn?.region ?? cluster.region;
  // An unnamed region is the service's default; `policy.ecs.regions` bounds named ones.
  return (
    account === wildcard.account && (wildcard.region === '*' || region === undefined || region === wildcard.region)
  );
}

/** The ECS backend's part of the profiles: its rows, its linked-field rules, its policy keys, its client key. */
export const ecsProfiles: BackendProfiles<EcsClusterProfile, EcsElasticProfile> = {
  backend: 'ecs',
  clusterProperties: CLUSTER_ROWS,
  elasticProperties: ELASTIC_ROWS,

  claims(raw) {
    return readString(raw, 'cluster') !== undefined;
  },

  clusterProblems(raw) {
    const problems: PropertyProblem[] = [];
    if (readString(raw, 'launch_type') && readString(raw, 'capacity_provider')) {
      problems.push({ key: 'capacity_provider', message: 'set either launch_type or capacity_provider, not both' });
    }
    if (!readString(raw, 'cluster')) {
      problems.push({ key: 'cluster', message: 'cluster must not be blank when backend is ecs' });
    }
    problems.push(...clusterRuleProblems(ecsLaunch(raw)));
    problems.push(...unreachableServerUrlProblem(raw, 'in ECS tasks'));
    return problems;
  },

  elasticProblems(raw) {
    return elasticRuleProblems({
      enableExecuteCommand: readBool(raw, 'enable_execute_command'),
      taskRoleArn: readString(raw, 'task_role_arn'),
      taskDefinition: readString(raw, 'task_definition'),
      capabilities: capabilityNames(raw),
    });
  },

  parseCluster(raw, shared) {
    const region = readString(raw, 'region');
    const cluster = readString(raw, 'cluster');
    // Stryker disable next-line StringLiteral: an ECS cluster profile without a cluster is refused before this is read
    const named = cluster ?? 'default';
    return {
      ...shared,
      // Told to GoCD users: the request's values clipped (notice-texts.ts).
      where: `ECS cluster ${clip(named, VALUE_MAX)}${region ? ` in ${clip(region, VALUE_MAX)}` : ''}`,
      region,
      cluster,
      ...ecsLaunch(raw),
      assumeRoleArn: readString(raw, 'assume_role_arn'),
      janitorImage: readString(raw, 'janitor_image') ?? 'gocd-agent-scaler-janitor:latest',
    };
  },

  parseElastic(raw, shared) {
    return {
      ...shared,
      taskRoleArn: readString(raw, 'task_role_arn'),
      repositoryCredentials: readString(raw, 'repository_credentials'),
      enableExecuteCommand: readBool(raw, 'enable_execute_command'),
      taskDefinition: readString(raw, 'task_definition'),
    };
  },

  launchRefusal(cluster, profile) {
    return launchRuleRefusal({ cluster, profile });
  },

  policyRefusal(policy, cluster) {
    const { clusters, regions, accounts } = policy.ecs;
    const arn = cluster.cluster ? clusterArnParts(cluster.cluster) : undefined;
    if (clusters && cluster.cluster) {
      if (!clusters.some((c) => clusterEntryAllows(c, cluster)))
        return `ECS cluster ${quote(cluster.cluster)} is not allowed by the operator policy (policy.ecs.clusters: ${listed(clusters)})`;
    }
    if (regions) {
      for (const region of [cluster.region, arn?.region]) {
        if (region !== undefined && !regions.includes(region))
          return `region ${quote(region)} is not allowed by the operator policy (policy.ecs.regions: ${listed(regions)})`;
      }
    }
    if (accounts) {
      for (const [key, account] of [
        ['assume_role_arn', roleAccount(cluster.assumeRoleArn)],
        ['cluster', arn?.account],
      ] as const) {
        if (account !== undefined && !accounts.includes(account))
          return `account ${account} (${key}) is not allowed by the operator policy (policy.ecs.accounts: ${listed(accounts)})`;
      }
    }
    return undefined;
  },

  needs() {
    return {};
  },

  // One ECS client per (region, role).
  clientKey(cluster) {
    return `${cluster.region ?? ''}|${cluster.assumeRoleArn ?? ''}`;
  },
};

/** A cluster profile of the ECS backend (the provider hands the ECS backend only these). */
export function asEcsCluster(cluster: ClusterProfile): EcsClusterProfile {
  if (cluster.backend !== ecsProfiles.backend)
    throw new Error(`not an ECS cluster profile: backend ${cluster.backend}`);
  return cluster as EcsClusterProfile;
}
