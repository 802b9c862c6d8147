/**
 * ECS rules that link fields — rules the AWS service model does not encode, which ECS enforces at
 * RegisterTaskDefinition or RunTask. Checked here, before any ECS call: rules within one profile by
 * validate-cluster-profile / validate-elastic-agent-profile (GoCD shows them in its form), rules that need both
 * profiles at create-agent (the refusal reaches the status report). docs/DESIGN.md keeps the same table.
 */

/** Where a rule is checked. */
export type RuleStage = 'cluster-profile' | 'elastic-profile' | 'create-agent';

/** One linked-field rule, with the ECS documentation it comes from. */
export interface EcsRule {
  id: string;
  stage: RuleStage;
  rule: string;
  source: string;
}

const DOCS = 'https://docs.aws.amazon.com/AmazonECS/latest';

/** Every rule, in the order of docs/DESIGN.md's table. */
export const ECS_RULES: readonly EcsRule[] = [
  {
    id: 'awsvpc-subnets',
    stage: 'cluster-profile',
    rule: 'awsvpc needs subnets: launch_type FARGATE and the FARGATE / FARGATE_SPOT capacity providers run only awsvpc',
    source: `${DOCS}/APIReference/API_RunTask.html#ECS-RunTask-request-networkConfiguration`,
  },
  {
    id: 'public-ip-fargate-only',
    stage: 'cluster-profile',
    rule: 'assign_public_ip is Fargate-only (an EC2 task ENI gets no public IP)',
    source: `${DOCS}/APIReference/API_AwsVpcConfiguration.html; ${DOCS}/developerguide/task-networking-awsvpc.html`,
  },
  {
    id: 'external-no-awsvpc',
    stage: 'cluster-profile',
    rule: 'EXTERNAL (ECS Anywhere) supports bridge, host and none network modes, not awsvpc: no subnets or security groups',
    source: `${DOCS}/developerguide/ecs-anywhere.html`,
  },
  {
    id: 'security-groups-need-subnets',
    stage: 'cluster-profile',
    rule: 'security groups are part of the awsvpc configuration, which needs subnets',
    source: `${DOCS}/APIReference/API_AwsVpcConfiguration.html`,
  },
  {
    id: 'awslogs-execution-role',
    stage: 'cluster-profile',
    rule: 'Fargate and EXTERNAL tasks that use the awslogs driver (log_group) need execution_role_arn',
    source: `${DOCS}/developerguide/task_execution_IAM_role.html; ${DOCS}/developerguide/ecs-anywhere.html`,
  },
  {
    id: 'exec-needs-task-role',
    stage: 'elastic-profile',
    rule: 'enable_execute_command needs a task role (task_role_arn), unless task_definition brings its own',
    source: `${DOCS}/APIReference/API_RunTask.html#ECS-RunTask-request-enableExecuteCommand; ${DOCS}/developerguide/ecs-exec.html`,
  },
  {
    id: 'capability-names',
    stage: 'elastic-profile',
    rule: 'capabilities must be names from the KernelCapabilities list',
    source: `${DOCS}/APIReference/API_KernelCapabilities.html`,
  },
  {
    id: 'fargate-task-size',
    stage: 'create-agent',
    rule: 'on Fargate, cpu/memory must be one of the Fargate task sizes',
    source: `${DOCS}/developerguide/task-cpu-memory-error.html`,
  },
  {
    id: 'fargate-docker-mode',
    stage: 'create-agent',
    rule: 'no Docker mode on Fargate (launch_type FARGATE or a FARGATE / FARGATE_SPOT capacity provider): no privileged containers, no host paths; this also covers "Fargate adds only SYS_PTRACE", as capabilities apply only to Docker modes',
    source: `${DOCS}/developerguide/fargate-tasks-services.html; ${DOCS}/APIReference/API_KernelCapabilities.html`,
  },
  {
    id: 'repository-credentials-execution-role',
    stage: 'create-agent',
    rule: 'repository_credentials need the cluster profile execution_role_arn, on every launch type',
    source: `${DOCS}/developerguide/private-auth.html`,
  },
];

/**
 * The Linux capabilities ECS accepts in `linuxParameters.capabilities`
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_KernelCapabilities.html).
 */
export const KERNEL_CAPABILITIES: ReadonlySet<string> = new Set(
  'ALL AUDIT_CONTROL AUDIT_WRITE BLOCK_SUSPEND CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID IPC_LOCK IPC_OWNER KILL LEASE LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE MKNOD NET_ADMIN NET_BIND_SERVICE NET_BROADCAST NET_RAW SETFCAP SETGID SETPCAP SETUID SYS_ADMIN SYS_BOOT SYS_CHROOT SYS_MODULE SYS_NICE SYS_PACCT SYS_PTRACE SYS_RAWIO SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG SYSLOG WAKE_ALARM'.split(
    ' ',
  ),
);

/** The built-in Fargate capacity providers (custom provider names may not start with "fargate"). */
export const FARGATE_CAPACITY_PROVIDERS: readonly string[] = ['FARGATE', 'FARGATE_SPOT'];

/** The launch settings of a cluster profile that decide which rules apply. */
export interface LaunchSettings {
  launchType?: string;
  capacityProvider?: string;
}

/** A Fargate launch: launch type FARGATE, or the FARGATE / FARGATE_SPOT capacity provider. */
export function runsOnFargate(s: LaunchSettings): boolean {
  return s.launchType === 'FARGATE' || FARGATE_CAPACITY_PROVIDERS.includes(s.capacityProvider ?? '');
}

/**
 * Fargate task sizes: cpu units → the memory values (MiB) allowed with it
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html).
 */
export const FARGATE_TASK_SIZES: Readonly<
  Record<number, { min: number; max: number; step: number; values?: number[] }>
> = Object.freeze({
  256: { min: 512, max: 2048, step: 512, values: [512, 1024, 2048] },
  512: { min: 1024, max: 4096, step: 1024 },
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
  8192: { min: 16384, max: 61440, step: 4096 },
  16384: { min: 32768, max: 122880, step: 8192 },
});

/** Why `cpu`/`memory` is not a Fargate task size (naming the sizes that would be), or undefined when it is. */
export function fargateSizeProblem(cpu: number, memory: number): string | undefined {
  const size = FARGATE_TASK_SIZES[cpu];
  if (!size) {
    return `cpu ${cpu} is not a Fargate task size; Fargate takes cpu ${Object.keys(FARGATE_TASK_SIZES).join(', ')}`;
  }
  const ok = size.values
    ? size.values.includes(memory)
    : // Stryker disable next-line ArithmeticOperator: every row's min is a multiple of its step, so memory + min and memory - min leave the same remainder
      memory >= size.min && memory <= size.max && (memory - size.min) % size.step === 0;
  if (ok) return undefined;
  const range = size.values ? size.values.join(', ') : `${size.min} to ${size.max} in steps of ${size.step}`;
  return `Fargate does not run cpu ${cpu} with memory ${memory}; with cpu ${cpu} memory must be ${range} (MiB)`;
}

/** A problem in GoCD's `{key, message}` shape. */
export interface RuleProblem {
  key: string;
  message: string;
}

/** The cluster-profile values the rules read (already split and defaulted). */
export interface ClusterRuleInput extends LaunchSettings {
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  logGroup?: string;
  executionRoleArn?: string;
}

/** Rules within one cluster profile (validate-cluster-profile). */
export function clusterRuleProblems(c: ClusterRuleInput): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const fargate = runsOnFargate(c);
  const where = c.launchType ? `launch_type ${c.launchType}` : `capacity_provider ${c.capacityProvider}`;
  if (fargate && c.subnets.length === 0) {
    problems.push({ key: 'subnets', message: `${where} runs tasks in awsvpc mode, which needs subnets` });
  }
  if (c.assignPublicIp && !fargate) {
    problems.push({
      key: 'assign_public_ip',
      message: `assign_public_ip applies only to Fargate (launch_type FARGATE or capacity_provider FARGATE / FARGATE_SPOT); ECS refuses it for ${where}`,
    });
  }
  if (c.launchType === 'EXTERNAL' && (c.subnets.length > 0 || c.securityGroups.length > 0)) {
    problems.push({
      key: c.subnets.length > 0 ? 'subnets' : 'security_groups',
      message:
        'launch_type EXTERNAL (ECS Anywhere) does not support awsvpc networking: leave subnets and security_groups empty',
    });
  } else if (c.securityGroups.length > 0 && c.subnets.length === 0) {
    problems.push({ key: 'security_groups', message: 'security_groups need subnets (awsvpc networking)' });
  }
  if (c.logGroup && !c.executionRoleArn && (fargate || c.launchType === 'EXTERNAL')) {
    problems.push({
      key: 'execution_role_arn',
      message: `log_group on ${fargate ? 'Fargate' : 'EXTERNAL'} uses the awslogs driver, which needs execution_role_arn (the task execution role writes the logs)`,
    });
  }
  return problems;
}

/** The elastic-profile values the rules read. */
export interface ElasticRuleInput {
  enableExecuteCommand: boolean;
  taskRoleArn?: string;
  taskDefinition?: string;
  capabilities: string[];
}

/** Rules within one elastic agent profile (validate-elastic-agent-profile). */
export function elasticRuleProblems(p: ElasticRuleInput): RuleProblem[] {
  const problems: RuleProblem[] = [];
  if (p.enableExecuteCommand && !p.taskRoleArn && !p.taskDefinition) {
    problems.push({
      key: 'task_role_arn',
      message: 'enable_execute_command needs a task role: set task_role_arn (ECS Exec runs through the task role)',
    });
  }
  const unknown = p.capabilities.filter((c) => !KERNEL_CAPABILITIES.has(c));
  if (unknown.length > 0) {
    problems.push({
      key: 'capabilities',
      message: `not a Linux capability ECS accepts: ${unknown.join(', ')} (e.g. SYS_ADMIN, NET_ADMIN; see the KernelCapabilities list)`,
    });
  }
  return problems;
}

/** What create-agent rules read of both profiles. */
export interface LaunchRuleInput {
  cluster: LaunchSettings & { executionRoleArn?: string };
  profile: {
    cpu: number;
    memory: number;
    dockerMode: string;
    repositoryCredentials?: string;
    taskDefinition?: string;
  };
}

/** Rules that need both profiles (create-agent); the first refusal reason, or undefined. */
export function launchRuleRefusal({ cluster, profile }: LaunchRuleInput): string | undefined {
  const fargate = runsOnFargate(cluster);
  const where = cluster.launchType ? 'Fargate' : `the ${cluster.capacityProvider} capacity provider (Fargate)`;
  if (fargate && profile.dockerMode !== 'none') {
    return `docker_mode ${profile.dockerMode} cannot run on ${where} (no privileged containers, no host socket); use an EC2 or EXTERNAL cluster`;
  }
  // A profile's own task_definition brings its own size and roles; ECS checks those.
  if (profile.taskDefinition) return undefined;
  if (fargate) {
    const problem = fargateSizeProblem(profile.cpu, profile.memory);
    if (problem) return `${problem}; change the elastic agent profile's cpu/memory`;
  }
  if (profile.repositoryCredentials && !cluster.executionRoleArn) {
    return 'repository_credentials need a task execution role: set execution_role_arn on the cluster profile (ECS reads the registry secret with it)';
  }
  return undefined;
}
