import { clientError, invalidParameter } from './ecs-errors.js';

// The rules ECS enforces across fields, which the service model cannot encode, with ECS's own error codes and (where
// published) messages. Written from the ECS documentation, independently of the product's profile checks
// (src/agents/ecs-profile-rules.ts): a fake that shared the product's code would agree with it by construction.
// Sources are cited per rule; "message: ours" marks a rule whose wire message AWS does not publish.

type Json = Record<string, unknown>;

/** What the fake knows of a cluster's capacity: associated providers and its default strategy. */
export interface FakeCluster {
  name: string;
  arn: string;
  /** Providers associated with the cluster (PutClusterCapacityProviders): FARGATE, FARGATE_SPOT, ASG providers. */
  capacityProviders: string[];
  defaultCapacityProviderStrategy: { capacityProvider: string; weight?: number; base?: number }[];
}

/** FARGATE and FARGATE_SPOT are the built-in Fargate providers; any other provider is backed by an Auto Scaling group. */
const isFargateProvider = (name: string) => name === 'FARGATE' || name === 'FARGATE_SPOT';

/**
 * Valid Fargate task sizes (cpu units → memory MiB), "Task CPU and memory" / task-cpu-memory-error
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html).
 */
function fargateMemoryFor(cpu: number): number[] {
  const range = (from: number, to: number, step: number) =>
    Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
  switch (cpu) {
    case 256:
      return [512, 1024, 2048];
    case 512:
      return range(1024, 4096, 1024);
    case 1024:
      return range(2048, 8192, 1024);
    case 2048:
      return range(4096, 16384, 1024);
    case 4096:
      return range(8192, 30720, 1024);
    case 8192:
      return range(16384, 61440, 4096);
    case 16384:
      return range(32768, 122880, 8192);
    default:
      return [];
  }
}

/** Task-level cpu/memory as ECS reads them: units/MiB, or "1 vCPU" / "2 GB" strings converted at registration. */
function units(value: unknown, perUnit: number, suffix: RegExp): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text);
  const m = new RegExp(`^(\\d+(?:\\.\\d+)?)\\s*${suffix.source}$`, 'i').exec(text);
  return m ? Math.round(Number(m[1]) * perUnit) : Number.NaN;
}

/**
 * The Linux capabilities `linuxParameters.capabilities.add/drop` take (KernelCapabilities API reference,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_KernelCapabilities.html). The model types them as
 * plain strings; ECS checks the names.
 */
const KERNEL_CAPABILITIES = new Set(
  'ALL AUDIT_CONTROL AUDIT_WRITE BLOCK_SUSPEND CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID IPC_LOCK IPC_OWNER KILL LEASE LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE MKNOD NET_ADMIN NET_BIND_SERVICE NET_BROADCAST NET_RAW SETFCAP SETGID SETPCAP SETUID SYS_ADMIN SYS_BOOT SYS_CHROOT SYS_MODULE SYS_NICE SYS_PACCT SYS_PTRACE SYS_RAWIO SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG SYSLOG WAKE_ALARM'.split(
    ' ',
  ),
);

const containersOf = (td: Json) => (td.containerDefinitions as Json[] | undefined) ?? [];
const usesAwslogs = (td: Json) =>
  containersOf(td).some((c) => (c.logConfiguration as Json | undefined)?.logDriver === 'awslogs');

/** RegisterTaskDefinition: the checks a wrong definition would trip, in ECS's order of reporting. */
export function checkTaskDefinition(body: Json): void {
  const family = String(body.family ?? '');
  // "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens" (RegisterTaskDefinition).
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(family)) throw clientError('Family contains invalid characters.');
  const defs = containersOf(body);
  // Quotas: 10 containers per definition, 64 KiB per definition (ECS service quotas; ecs-facts §1.6). Message: ours.
  if (defs.length === 0 || defs.length > 10) throw clientError('A task definition needs 1 to 10 containers.');
  if (Buffer.byteLength(JSON.stringify(body)) > 64 * 1024) throw clientError('Task definition exceeds 64 KiB.');
  const names = new Set(defs.map((c) => String(c.name)));
  if (names.size !== defs.length) throw clientError('Container names must be unique.');
  // "All tasks must have at least one essential container" (ContainerDefinition.essential). Message: ours.
  if (!defs.some((c) => c.essential !== false)) throw clientError('A task definition needs an essential container.');
  const compat = (body.requiresCompatibilities as string[] | undefined) ?? [];
  const fargate = compat.includes('FARGATE');
  const external = compat.includes('EXTERNAL');
  const volumes = new Map(((body.volumes as Json[] | undefined) ?? []).map((v) => [String(v.name), v]));
  const executionRole = typeof body.executionRoleArn === 'string' && body.executionRoleArn !== '';

  for (const c of defs) {
    const caps = (c.linuxParameters as Json | undefined)?.capabilities as Json | undefined;
    for (const name of [...((caps?.add as string[]) ?? []), ...((caps?.drop as string[]) ?? [])]) {
      // KernelCapabilities valid values. Message: ours.
      if (!KERNEL_CAPABILITIES.has(name))
        throw clientError(`Invalid capability '${name}' in linuxParameters for container '${c.name}'.`);
    }
    // "Private registry authentication for tasks" needs the task execution role on every launch type
    // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html).
    if (c.repositoryCredentials && !executionRole)
      throw clientError(
        'Private repository authentication requires that the task definition specify a value for executionRoleArn.',
      );
  }

  if (fargate) {
    // "Fargate task definition differences"
    // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html).
    if (body.networkMode !== 'awsvpc') throw clientError('Fargate only supports network mode ‘awsvpc’.');
    if (body.cpu === undefined) throw clientError("Fargate requires that 'cpu' be defined at the task level.");
    if (body.memory === undefined) throw clientError("Fargate requires that 'memory' be defined at the task level.");
    const cpu = units(body.cpu, 1024, /vcpu/);
    const memory = units(body.memory, 1024, /gb/);
    if (cpu === undefined || memory === undefined || !fargateMemoryFor(cpu).includes(memory)) {
      throw clientError(
        `No Fargate configuration exists for given values: ${String(body.cpu)} CPU, ${String(body.memory)} memory. See the Amazon ECS documentation for the valid values.`,
      );
    }
    for (const c of defs) {
      if (c.privileged) throw clientError('privileged is not supported on Fargate.');
      const add = ((c.linuxParameters as Json | undefined)?.capabilities as Json | undefined)?.add as
        | string[]
        | undefined;
      // "Tasks launched on Fargate only support adding the SYS_PTRACE kernel capability" (KernelCapabilities).
      // Message: ours.
      const unsupported = (add ?? []).filter((x) => x !== 'SYS_PTRACE');
      if (unsupported.length)
        throw clientError(`Fargate only supports adding the SYS_PTRACE capability, got: [${unsupported.join(', ')}]`);
      // Images in a private ECR repository need the execution role on Fargate (task_execution_IAM_role).
      if (/^\d{12}\.dkr\.ecr\./.test(String(c.image ?? '')) && !executionRole)
        throw clientError('Fargate requires task definition to have execution role ARN to support ECR images.');
    }
    if ([...volumes.values()].some((v) => (v.host as Json | undefined)?.sourcePath || v.dockerVolumeConfiguration))
      throw clientError('Host source paths and Docker volumes are not supported on Fargate.');
    // Task execution IAM role: "tasks hosted on Fargate … using the awslogs log driver"
    // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html).
    if (usesAwslogs(body) && !executionRole)
      throw clientError('Fargate requires task definition to have execution role ARN to support log driver awslogs.');
  }
  if (external) {
    // "Tasks that run on external instances must use the bridge, host, or none network modes. The awsvpc network
    // mode isn't supported." (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-anywhere.html).
    // Message: ours.
    if (body.networkMode === 'awsvpc')
      throw clientError('Network mode awsvpc is not supported for EXTERNAL compatibility.');
    // External instances send awslogs through the task execution role (ecs-anywhere, task_execution_IAM_role).
    // Message: ours, in the form of the Fargate one.
    if (usesAwslogs(body) && !executionRole)
      throw clientError('EXTERNAL requires task definition to have execution role ARN to support log driver awslogs.');
  }

  for (const c of defs) {
    // "If using the EC2 launch type, you must specify either a task-level memory value or a container-level
    // memory value" (ContainerDefinition.memory).
    if (!body.memory && c.memory === undefined && c.memoryReservation === undefined) {
      throw clientError(
        `Invalid setting for container '${c.name}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
      );
    }
    for (const m of (c.mountPoints as Json[] | undefined) ?? []) {
      if (!volumes.has(String(m.sourceVolume))) throw clientError(`Unknown volume '${m.sourceVolume}' in '${c.name}'.`);
    }
    // ContainerDependency: HEALTHY needs the dependency's healthCheck; COMPLETE/SUCCESS cannot target an essential
    // container. Messages: ours.
    for (const d of (c.dependsOn as Json[] | undefined) ?? []) {
      const target = defs.find((x) => x.name === d.containerName);
      if (!target) throw clientError(`'${c.name}' depends on unknown container '${d.containerName}'.`);
      if (d.condition === 'HEALTHY' && !target.healthCheck)
        throw clientError(`'${d.containerName}' has no healthCheck for a HEALTHY dependency.`);
      if ((d.condition === 'COMPLETE' || d.condition === 'SUCCESS') && target.essential !== false)
        throw clientError(`${d.condition} cannot be used on an essential container.`);
    }
  }
  for (const v of volumes.values()) {
    const kinds = ['host', 'dockerVolumeConfiguration', 'efsVolumeConfiguration'].filter((k) => v[k] !== undefined);
    if (kinds.length > 1) throw clientError(`Volume '${v.name}' sets more than one volume type.`);
  }
  checkTags(body.tags);
}

/** Tag restrictions beyond the model's sizes: the `aws:` prefix is reserved (ecs-using-tags, "Tag restrictions"). */
function checkTags(tags: unknown): void {
  for (const t of (tags as { key: string }[] | undefined) ?? []) {
    if (/^aws:/i.test(t.key)) throw invalidParameter('Tag keys starting with aws: are reserved.');
  }
}

/** The launch type a RunTask resolves to, and the Fargate-ness of its capacity. */
export interface ResolvedLaunch {
  launchType: 'EC2' | 'FARGATE' | 'EXTERNAL' | 'MANAGED_INSTANCES';
  capacityProvider?: string;
}

/**
 * RunTask's launch: `launchType`, else the capacity provider strategy, else the cluster's default strategy, else EC2
 * (RunTask API reference, `capacityProviderStrategy`). Throws the errors ECS answers for an invalid combination.
 */
export function resolveLaunch(body: Json, cluster: FakeCluster): ResolvedLaunch {
  const strategy = body.capacityProviderStrategy as { capacityProvider: string }[] | undefined;
  // "If a capacityProviderStrategy is specified, the launchType parameter must be omitted."
  if (body.launchType && strategy) {
    throw invalidParameter('Specifying both a launch type and capacity provider strategy is not supported.');
  }
  if (typeof body.launchType === 'string') return { launchType: body.launchType as ResolvedLaunch['launchType'] };
  const used = strategy ?? cluster.defaultCapacityProviderStrategy;
  if (used.length === 0) return { launchType: 'EC2' };
  for (const item of used) {
    // CapacityProviderStrategyItem: "The capacity provider must be associated with the cluster to be used in a
    // capacity provider strategy" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html).
    if (!cluster.capacityProviders.includes(item.capacityProvider)) {
      throw invalidParameter(
        'The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.',
      );
    }
  }
  // "A capacity provider strategy cannot contain a mix of capacity providers using Auto Scaling groups and Fargate
  // providers" (cluster-capacity-providers). Message: ours.
  const fargate = used.filter((i) => isFargateProvider(i.capacityProvider)).length;
  if (fargate > 0 && fargate < used.length) {
    throw invalidParameter(
      'A capacity provider strategy cannot mix Fargate and Auto Scaling group capacity providers.',
    );
  }
  const first = used[0]!.capacityProvider;
  return { launchType: fargate > 0 ? 'FARGATE' : 'EC2', capacityProvider: first };
}

/** RunTask's checks against the definition it runs, in the order ECS reports them (before the client token). */
export function checkRunTask(body: Json, td: Json, launch: ResolvedLaunch): void {
  const count = Number(body.count ?? 1);
  // "You can specify up to 10 tasks for each call." (RunTask `count`). Message: ours.
  if (!(count >= 1 && count <= 10)) throw invalidParameter('count must be between 1 and 10.');
  // RunTask `startedBy`: "Up to 128 letters (uppercase and lowercase), numbers, hyphens (-), forward slash (/), and
  // underscores (_) are allowed." Message: ours.
  if (typeof body.startedBy === 'string' && !/^[A-Za-z0-9_/-]{1,128}$/.test(body.startedBy))
    throw invalidParameter('startedBy: up to 128 letters, numbers, hyphens, slashes and underscores.');
  // RunTask `clientToken`: "Up to 64 ASCII characters are allowed" (ECS_Idempotency: ASCII 33–126). Message: ours.
  if (typeof body.clientToken === 'string' && !/^[\x21-\x7e]{1,64}$/.test(body.clientToken))
    throw invalidParameter('clientToken: 1 to 64 ASCII characters 33-126.');
  checkTags(body.tags);
  // RunTask `propagateTags`: "An error will be received if you specify the SERVICE option when running a task."
  if (body.propagateTags === 'SERVICE') throw invalidParameter('propagateTags SERVICE is only valid for services.');

  // The definition must support the launch type ("Task definition does not support launch_type FARGATE.").
  // Simplification: ECS also accepts a launch type the definition happens to satisfy without declaring it; the fake
  // accepts only the declared ones (requiresCompatibilities, default EC2).
  const declared = (td.requiresCompatibilities as string[] | undefined) ?? ['EC2'];
  if (!declared.includes(launch.launchType))
    throw invalidParameter(`Task definition does not support launch_type ${launch.launchType}.`);

  const awsvpc = td.networkMode === 'awsvpc';
  const vpc = (body.networkConfiguration as Json | undefined)?.awsvpcConfiguration as Json | undefined;
  // RunTask `networkConfiguration`: "This parameter is required for task definitions that use the awsvpc network
  // mode … and not supported for other network modes" — with a launch type or a capacity provider alike.
  if (awsvpc && !(vpc?.subnets as unknown[] | undefined)?.length)
    throw invalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  if (!awsvpc && body.networkConfiguration)
    throw invalidParameter('Network Configuration is not valid for the given networkMode of this task definition.');
  // AwsVpcConfiguration `assignPublicIp`: "Whether the task's elastic network interface receives a public IP address.
  // Consider the following when you set this value: When you use create-service or update-service, the default is
  // DISABLED" — and EC2 tasks get no public IP (task-networking-awsvpc): Fargate only.
  if (vpc?.assignPublicIp === 'ENABLED' && launch.launchType !== 'FARGATE')
    throw invalidParameter('Assign public IP is not supported for this launch type.');
  // RunTask `enableExecuteCommand`: needs a task role, in the definition or as an override (ecs-exec.html).
  const overrides = body.overrides as Json | undefined;
  if (body.enableExecuteCommand === true && !td.taskRoleArn && !overrides?.taskRoleArn) {
    throw invalidParameter(
      'The execute command failed because a valid task role is not being used. Specify a valid task role in your task definition or as a task override and try again.',
    );
  }
  // "Task placement constraints aren't supported for tasks run on Fargate" (task-placement-constraints).
  if (launch.launchType === 'FARGATE' && body.placementConstraints)
    throw invalidParameter('Placement constraints are not supported on Fargate.');
  const names = new Set(containersOf(td).map((c) => String(c.name)));
  for (const o of (overrides?.containerOverrides as Json[] | undefined) ?? []) {
    if (!names.has(String(o.name)))
      throw invalidParameter(`Override for container named ${o.name} is not a container in the TaskDefinition.`);
  }
  // TaskOverride: "A total of 8192 characters are allowed for overrides" (JSON formatting characters included).
  if (Buffer.byteLength(JSON.stringify(overrides ?? {})) > 8192)
    throw invalidParameter('Container Overrides length must be at most 8192');
}

/** StopTask `reason`: "Up to 255 characters are allowed in this message" (StopTask API reference). Message: ours. */
export function checkStopTask(body: Json): void {
  if (typeof body.reason === 'string' && [...body.reason].length > 255)
    throw invalidParameter('Reason length must be at most 255 characters.');
}
