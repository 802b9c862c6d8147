import { readFileSync } from 'node:fs';

/** Optional EC2 capacity for the agents' ECS cluster (Docker-capable agents need EC2, not Fargate). */
export interface CapacityConfig {
  /** The VPC and private subnets the instances run in (imported by id: synth needs no AWS lookup). */
  vpcId: string;
  availabilityZones: string[];
  privateSubnetIds: string[];
  /** e.g. `m7g.large` (arm64) or `m7i.large` (x86_64); the ECS-optimised AMI follows the architecture. */
  instanceType: string;
  minCapacity?: number;
  maxCapacity: number;
  /** Name of the capacity provider (the cluster profile's `capacity_provider`). */
  capacityProviderName?: string;
}

/** The alternative deployment: the service as a long-running ECS (Fargate) service behind a load balancer. */
export interface ContainerServiceConfig {
  /** Image of this repository's Dockerfile, pushed to a registry the task can pull from (`<repo-uri>:<tag>`). */
  image: string;
  vpcId: string;
  availabilityZones: string[];
  privateSubnetIds: string[];
  /** Subnets of the load balancer; private ones for an internal load balancer (the default), public ones otherwise. */
  loadBalancerSubnetIds?: string[];
  /**
   * An internet-facing load balancer; needs `certificateArn`: the forwarder token and webhook secrets must not cross
   * the internet in clear, so it listens on HTTPS and its port 80 only redirects there.
   */
  publicLoadBalancer?: boolean;
  /** ACM certificate of the load balancer's HTTPS listener (required when public, optional when internal). */
  certificateArn?: string;
  desiredCount?: number;
  cpu?: number;
  memoryMiB?: number;
}

/** Everything the stack is built from; `infra/scaler.config.json` (or `$SCALER_INFRA_CONFIG`) overrides defaults. */
export interface ScalerStackConfig {
  /** Stack name. */
  stackName: string;
  /** Account/region; when unset the template is environment-agnostic (`AWS::AccountId`, `AWS::Region`). */
  account?: string;
  region?: string;
  /** Name of the ECS cluster agents run in (RunTask/StopTask/ListTasks are conditioned on it). */
  clusterName: string;
  /** Task roles (profiles' `task_role_arn`) the service may pass to ECS. */
  taskRoleArns: string[];
  /** Execution roles (`execution_role_arn`) the service may pass to ECS. */
  executionRoleArns: string[];
  /** Families of existing task definitions named by profiles' `task_definition`, besides `gocd-agent-*`. */
  extraTaskDefinitionFamilies: string[];
  /** Roles of other accounts' ECS (cluster profiles' `assume_role_arn`). */
  assumeRoleArns: string[];
  /** ECR repositories whose pushes are routed to the function (EventBridge rule), in this account and region. */
  ecrRepositories: string[];
  /** Environment-variable names of registry secrets to create (the config refers to them as `${NAME}`). */
  registrySecretNames: string[];
  /** Backstop poll schedule in minutes; 0 turns the schedule off. */
  pollMinutes: number;
  /** Path of the service config YAML copied into the function as `scaler.yaml`; default a DynamoDB-backed one. */
  serviceConfigFile?: string;
  /** An existing secret holding the GoCD API token; by default one is created for you to fill in. */
  gocdApiTokenSecretArn?: string;
  /** Function memory (MiB); more memory is more CPU, hence a faster cold start. */
  memoryMiB: number;
  /** Function timeout (seconds); EventBridge invocations retry GoCD inside it. */
  timeoutSeconds: number;
  /** Receives of a retry-queue message before it moves to the dead-letter queue. */
  maxReceiveCount: number;
  /** SNS topic notified by the alarms. */
  alarmTopicArn?: string;
  capacity?: CapacityConfig;
  /**
   * Associate the FARGATE and FARGATE_SPOT capacity providers with the agents cluster, so cluster profiles may use
   * `launch_type: FARGATE` or `capacity_provider: FARGATE_SPOT` (ECS refuses a provider not associated with the
   * cluster). The stack then creates the cluster (with the EC2 capacity, when `capacity` is set too).
   */
  fargateCapacityProviders?: boolean;
  containerService?: ContainerServiceConfig;
  /** Deploy the Lambda (default true); false with `containerService` for a process-only deployment. */
  lambda: boolean;
  /**
   * Reserved concurrency of the function: the most instances it runs at once, so a flood of requests cannot take the
   * account's whole concurrency (nor run up without bound). AWS keeps 100 unreserved per account and region.
   */
  reservedConcurrency: number;
  /**
   * The most the stack's service config lets cluster profiles allow (written into its `policy:` with the stack's own
   * cluster, region and accounts); default nothing: Docker-capable agents need `privileged` or `socketMount` here.
   */
  agentPolicy: { privileged?: boolean; socketMount?: boolean; capabilities?: string[] };
}

/** Defaults: a Lambda deployment for a cluster named `gocd-agents`, no repositories, a 15-minute backstop poll. */
export const DEFAULT_STACK_CONFIG: Readonly<ScalerStackConfig> = Object.freeze({
  stackName: 'GocdAgentScaler',
  clusterName: 'gocd-agents',
  taskRoleArns: [],
  executionRoleArns: [],
  extraTaskDefinitionFamilies: [],
  assumeRoleArns: [],
  ecrRepositories: [],
  registrySecretNames: [],
  pollMinutes: 15,
  memoryMiB: 1024,
  timeoutSeconds: 120,
  maxReceiveCount: 8,
  lambda: true,
  reservedConcurrency: 20,
  agentPolicy: {},
});

const FAMILY = /^[A-Za-z0-9_-]{1,255}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/** Merges overrides onto the defaults and checks what CloudFormation would only reject at deploy time. */
export function resolveStackConfig(overrides: Partial<ScalerStackConfig> = {}): ScalerStackConfig {
  const config: ScalerStackConfig = { ...DEFAULT_STACK_CONFIG, ...overrides };
  const problems: string[] = [];
  for (const arn of [...config.taskRoleArns, ...config.executionRoleArns, ...config.assumeRoleArns]) {
    // A wildcard here would let the function pass any role to ECS: the one thing PassRole must never allow.
    if (!ROLE_ARN.test(arn) || arn.includes('*')) problems.push(`not a role ARN (no wildcards): ${arn}`);
  }
  for (const family of config.extraTaskDefinitionFamilies) {
    if (!FAMILY.test(family)) problems.push(`not a task definition family (no wildcards): ${family}`);
  }
  for (const name of config.registrySecretNames) {
    if (!ENV_NAME.test(name)) problems.push(`not an environment variable name: ${name}`);
  }
  if (!FAMILY.test(config.clusterName)) problems.push(`not a cluster name: ${config.clusterName}`);
  if (!config.lambda && !config.containerService)
    problems.push('nothing to deploy: lambda is false and no containerService');
  if (config.pollMinutes < 0 || !Number.isInteger(config.pollMinutes)) problems.push('pollMinutes: a whole number ≥ 0');
  if (!Number.isInteger(config.reservedConcurrency) || config.reservedConcurrency < 1)
    problems.push('reservedConcurrency: a whole number ≥ 1');
  const svc = config.containerService;
  if (svc?.publicLoadBalancer) {
    // Tokens in clear from 0.0.0.0/0 otherwise (issue 16, finding 8).
    if (!svc.certificateArn)
      problems.push('containerService.certificateArn: required when publicLoadBalancer is true (HTTPS only)');
    if (!svc.loadBalancerSubnetIds?.length)
      problems.push('containerService.loadBalancerSubnetIds: public subnets, required when publicLoadBalancer is true');
  }
  for (const cap of config.agentPolicy.capabilities ?? []) {
    if (!/^(CAP_)?[A-Z_]{2,32}$/.test(cap)) problems.push(`agentPolicy.capabilities: not a capability name: ${cap}`);
  }
  if (problems.length > 0) throw new Error(`invalid stack config:\n  ${problems.join('\n  ')}`);
  return config;
}

/** Reads the overrides file (JSON) when it exists; a missing default file means "defaults". */
export function loadStackConfig(file: string | undefined, required = false): ScalerStackConfig {
  if (!file) return resolveStackConfig();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return resolveStackConfig();
    throw new Error(`cannot read stack config ${file}: ${(err as Error).message}`);
  }
  return resolveStackConfig(JSON.parse(text) as Partial<ScalerStackConfig>);
}
