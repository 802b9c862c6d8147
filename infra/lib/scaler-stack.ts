import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AssetHashType,
  aws_certificatemanager as acm,
  CfnOutput,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cwActions,
  DockerImage,
  Duration,
  aws_lambda_destinations as destinations,
  aws_dynamodb as dynamodb,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_ecs_patterns as ecsPatterns,
  aws_elasticloadbalancingv2 as elbv2,
  aws_lambda_event_sources as eventSources,
  aws_events as events,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  RemovalPolicy,
  Stack,
  type StackProps,
  aws_secretsmanager as secretsmanager,
  aws_sns as sns,
  aws_sqs as sqs,
  aws_events_targets as targets,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { parse as parseYaml } from 'yaml';
import { agentHosts } from './agent-hosts.js';
import { scalerPolicyStatements } from './scaler-iam.js';
import { POLICY_ENV, withStackPolicy } from './service-policy.js';
import type { ScalerStackConfig } from './stack-config.js';

/** The service config used when the stack config names none: DynamoDB store, tokens from Secrets Manager. */
export const DEFAULT_SERVICE_CONFIG = `# gocd-agent-scaler config (deployed by infra/). \${NAME} comes from the environment; *_SECRET_ARN
# variables are read from Secrets Manager at start-up.
gocd:
  forwarderToken: \${SCALER_FORWARDER_TOKEN}
  apiToken: \${GOCD_API_TOKEN}
store:
  type: dynamodb
  tableName: \${SCALER_TABLE_NAME}
`;

/** Where the Lambda finds its service config: JSON, converted at synth from the YAML (a cold start parses no YAML). */
export const LAMBDA_CONFIG_FILE = 'scaler.json';

/**
 * The service config as the Lambda reads it: the YAML's document as JSON (JSON is YAML too, so the service reads it
 * either way; `${NAME}` references stay strings, interpolated by the service at start-up as before).
 */
export function lambdaConfigJson(serviceConfigYaml: string): string {
  return `${JSON.stringify(parseYaml(serviceConfigYaml) ?? {}, null, 2)}\n`;
}

/** Stack inputs: the typed config, the bundle folder and the service config text. */
export interface ScalerStackProps extends StackProps {
  config: ScalerStackConfig;
  /** `dist/lambda` (written by `npm run bundle`); ignored when `lambdaCode` is given. */
  lambdaDir: string;
  /** The service config YAML placed beside the bundle as `scaler.yaml`. */
  serviceConfigYaml: string;
  /** Tests pass their own code so they need no bundle. */
  lambdaCode?: lambda.Code;
}

/**
 * gocd-agent-scaler on AWS: the Lambda (Function URL; EventBridge ECR pushes and the backstop schedule; the retry
 * queue), its DynamoDB store and secrets, least-privilege IAM, alarms; optionally EC2 capacity for Docker-capable
 * agents and the same service as a long-running ECS service.
 */
export class ScalerStack extends Stack {
  constructor(scope: Construct, id: string, props: ScalerStackProps) {
    super(scope, id, props);
    const { config } = props;
    // The service may name only this stack's agents cluster, region and accounts (the operator policy).
    const serviceConfigYaml = withStackPolicy(props.serviceConfigYaml, config);
    const policyEnv = { [POLICY_ENV.region]: this.region, [POLICY_ENV.account]: this.account };

    const table = new dynamodb.Table(this, 'Store', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // DynamoDB deletes expired dedupe keys itself; the service also ignores items past `expiresAt`.
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const forwarderToken = new secretsmanager.Secret(this, 'ForwarderToken', {
      description: 'gocd-agent-scaler: bearer token of the GoCD forwarder plugin',
      generateSecretString: { passwordLength: 40, excludePunctuation: true },
    });
    const gocdApiToken = config.gocdApiTokenSecretArn
      ? secretsmanager.Secret.fromSecretCompleteArn(this, 'GocdApiToken', config.gocdApiTokenSecretArn)
      : new secretsmanager.Secret(this, 'GocdApiToken', {
          description: 'gocd-agent-scaler: GoCD API token (replace the generated value with a real token)',
          generateSecretString: { passwordLength: 40, excludePunctuation: true },
        });
    const secretEnv = new Map<string, secretsmanager.ISecret>([
      ['SCALER_FORWARDER_TOKEN', forwarderToken],
      ['GOCD_API_TOKEN', gocdApiToken],
    ]);
    for (const name of config.registrySecretNames) {
      secretEnv.set(
        name,
        new secretsmanager.Secret(this, `RegistrySecret${name}`, {
          description: `gocd-agent-scaler: registry secret \${${name}}`,
          generateSecretString: { passwordLength: 40, excludePunctuation: true },
        }),
      );
    }

    const policy = new iam.ManagedPolicy(this, 'AgentControl', {
      description: 'gocd-agent-scaler: launch, tag, list and stop agent tasks; read pushed images',
      statements: scalerPolicyStatements(this, config),
    });
    const alarmTopic = config.alarmTopicArn
      ? sns.Topic.fromTopicArn(this, 'AlarmTopic', config.alarmTopicArn)
      : undefined;

    if (config.lambda) {
      this.lambdaDeployment({ ...props, serviceConfigYaml }, { table, secretEnv, policy, alarmTopic, policyEnv });
    }
    const cluster = config.capacity ? this.capacity(config) : undefined;
    if (!cluster && config.fargateCapacityProviders) this.fargateCluster(config);
    if (config.containerService) {
      this.containerService(config, serviceConfigYaml, { table, secretEnv, policy, cluster, policyEnv });
    }
  }

  private lambdaDeployment(
    props: ScalerStackProps,
    deps: {
      table: dynamodb.Table;
      secretEnv: Map<string, secretsmanager.ISecret>;
      policy: iam.ManagedPolicy;
      alarmTopic?: sns.ITopic;
      policyEnv: Record<string, string>;
    },
  ): void {
    const { config } = props;
    const timeout = Duration.seconds(config.timeoutSeconds);
    const dlq = new sqs.Queue(this, 'DeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    // AWS's guidance for an SQS event source: visibility timeout at least six times the function timeout, so a
    // message is not redelivered while a throttled batch is still being retried by the poller.
    const retryQueue = new sqs.Queue(this, 'Retries', {
      visibilityTimeout: Duration.seconds(config.timeoutSeconds * 6),
      retentionPeriod: Duration.days(4),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: dlq, maxReceiveCount: config.maxReceiveCount },
    });

    const role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'gocd-agent-scaler Lambda',
      managedPolicies: [deps.policy],
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const environment: Record<string, string> = {
      SCALER_CONFIG: `/var/task/${LAMBDA_CONFIG_FILE}`,
      SCALER_TABLE_NAME: deps.table.tableName,
      SCALER_RETRY_QUEUE_URL: retryQueue.queueUrl,
      NODE_ENV: 'production',
      ...deps.policyEnv,
    };
    for (const [name, secret] of deps.secretEnv) environment[`${name}_SECRET_ARN`] = secret.secretArn;

    const fn = new lambda.Function(this, 'Function', {
      description: 'gocd-agent-scaler: GoCD elastic agents on ECS, registry push triggers',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: props.lambdaCode ?? bundleWithConfig(props.lambdaDir, props.serviceConfigYaml),
      memorySize: config.memoryMiB,
      timeout,
      role,
      logGroup,
      environment,
      // Async (EventBridge) invocations: Lambda's own retries are two, a few minutes apart, then the event goes to
      // the DLQ with its error, where an alarm fires and the operator redrives it into the retry queue.
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new destinations.SqsDestination(dlq),
      // The Function URL is open to the internet: bound how many instances a flood of requests can start.
      reservedConcurrentExecutions: config.reservedConcurrency,
    });
    deps.table.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem');
    for (const secret of deps.secretEnv.values()) secret.grantRead(fn);
    retryQueue.grantSendMessages(fn);
    fn.addEventSource(
      new eventSources.SqsEventSource(retryQueue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency: 2,
      }),
    );

    const url = fn.addFunctionUrl({
      // The app authenticates every route itself (forwarder bearer token, registry secrets and HMAC signatures);
      // GoCD and registries cannot sign requests with SigV4.
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.BUFFERED,
    });

    const eventTarget = new targets.LambdaFunction(fn, {
      deadLetterQueue: dlq,
      maxEventAge: Duration.hours(24),
      retryAttempts: 185,
    });
    if (config.ecrRepositories.length > 0) {
      new events.Rule(this, 'EcrPush', {
        description: 'gocd-agent-scaler: image pushes to the subscribed ECR repositories',
        eventPattern: {
          source: ['aws.ecr'],
          detailType: ['ECR Image Action', 'ECR Replication Action'],
          detail: {
            'action-type': ['PUSH', 'REPLICATE'],
            result: ['SUCCESS'],
            'repository-name': config.ecrRepositories,
          },
        },
        targets: [eventTarget],
      });
    }
    if (config.pollMinutes > 0) {
      new events.Rule(this, 'BackstopPoll', {
        description: 'gocd-agent-scaler: backstop poll of subscribed images (pushes whose event was lost)',
        schedule: events.Schedule.rate(Duration.minutes(config.pollMinutes)),
        targets: [eventTarget],
      });
    }

    const alarms = [
      new cloudwatch.Alarm(this, 'FunctionErrors', {
        alarmDescription: 'gocd-agent-scaler: the function failed (see its logs)',
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'DeadLetterDepth', {
        alarmDescription: 'gocd-agent-scaler: triggers or events gave up and wait in the dead-letter queue',
        metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    if (deps.alarmTopic) for (const alarm of alarms) alarm.addAlarmAction(new cwActions.SnsAction(deps.alarmTopic));

    new CfnOutput(this, 'FunctionUrl', { value: url.url, description: 'Forwarder URL and /registry/<name> base' });
    new CfnOutput(this, 'RetryQueueUrl', { value: retryQueue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: dlq.queueUrl });
    new CfnOutput(this, 'ForwarderTokenSecretArn', { value: deps.secretEnv.get('SCALER_FORWARDER_TOKEN')!.secretArn });
  }

  /** An ECS cluster with an EC2 Auto Scaling group capacity provider (Docker-capable agents need EC2). */
  private capacity(config: ScalerStackConfig): ecs.Cluster {
    const capacity = config.capacity!;
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'CapacityVpc', {
      vpcId: capacity.vpcId,
      availabilityZones: capacity.availabilityZones,
      privateSubnetIds: capacity.privateSubnetIds,
    });
    const cluster = new ecs.Cluster(this, 'AgentCluster', {
      vpc,
      clusterName: config.clusterName,
      enableFargateCapacityProviders: config.fargateCapacityProviders ?? false,
    });
    const { group } = agentHosts(this, vpc, capacity);
    const provider = new ecs.AsgCapacityProvider(this, 'AgentCapacity', {
      autoScalingGroup: group,
      capacityProviderName: capacity.capacityProviderName ?? 'gocd-agents-ec2',
      enableManagedScaling: true,
      // Agents are short-lived and stopped by the scaler itself; managed termination protection would keep
      // instances alive for tasks that are already on their way out.
      enableManagedTerminationProtection: false,
    });
    cluster.addAsgCapacityProvider(provider);
    new CfnOutput(this, 'CapacityProviderName', {
      value: provider.capacityProviderName,
      description: 'the cluster profile capacity_provider',
    });
    return cluster;
  }

  /**
   * The agents cluster with only the FARGATE and FARGATE_SPOT capacity providers (no EC2 capacity): a plain
   * `AWS::ECS::Cluster`, since CDK's Cluster construct would create a VPC it does not need.
   */
  private fargateCluster(config: ScalerStackConfig): void {
    new ecs.CfnCluster(this, 'AgentCluster', {
      clusterName: config.clusterName,
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    });
  }

  /** The service as a long-running Fargate service behind a load balancer (the `Dockerfile` image). */
  private containerService(
    config: ScalerStackConfig,
    serviceConfigYaml: string,
    deps: {
      table: dynamodb.Table;
      secretEnv: Map<string, secretsmanager.ISecret>;
      policy: iam.ManagedPolicy;
      cluster?: ecs.Cluster;
      policyEnv: Record<string, string>;
    },
  ): void {
    const svc = config.containerService!;
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'ServiceVpc', {
      vpcId: svc.vpcId,
      availabilityZones: svc.availabilityZones,
      privateSubnetIds: svc.privateSubnetIds,
      ...(svc.publicLoadBalancer ? { publicSubnetIds: svc.loadBalancerSubnetIds ?? [] } : {}),
    });
    const cluster = deps.cluster ?? new ecs.Cluster(this, 'ServiceCluster', { vpc });
    const taskRole = new iam.Role(this, 'ServiceTaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      managedPolicies: [deps.policy],
    });
    deps.table.grant(taskRole, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem');
    const secrets: Record<string, ecs.Secret> = {};
    for (const [name, secret] of deps.secretEnv) secrets[name] = ecs.Secret.fromSecretsManager(secret);
    // The load balancer lives in the service's VPC (the agents cluster may sit in another one, without public subnets);
    // public means HTTPS, with port 80 only redirecting (tokens never cross the internet in clear).
    const internetFacing = svc.publicLoadBalancer ?? false;
    const loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'ServiceLoadBalancer', {
      vpc,
      internetFacing,
      vpcSubnets: { subnets: internetFacing ? vpc.publicSubnets : vpc.privateSubnets },
    });
    const https = svc.certificateArn
      ? {
          certificate: acm.Certificate.fromCertificateArn(this, 'ServiceCertificate', svc.certificateArn),
          protocol: elbv2.ApplicationProtocol.HTTPS,
          redirectHTTP: true,
          sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        }
      : {};
    const service = new ecsPatterns.ApplicationLoadBalancedFargateService(this, 'Service', {
      cluster,
      desiredCount: svc.desiredCount ?? 1,
      cpu: svc.cpu ?? 512,
      memoryLimitMiB: svc.memoryMiB ?? 1024,
      publicLoadBalancer: internetFacing,
      loadBalancer,
      ...https,
      taskSubnets: { subnets: vpc.privateSubnets },
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64 },
      taskImageOptions: {
        image: ecs.ContainerImage.fromRegistry(svc.image),
        containerPort: 8080,
        taskRole,
        secrets,
        environment: {
          HOST: '0.0.0.0',
          PORT: '8080',
          SCALER_TABLE_NAME: deps.table.tableName,
          SCALER_CONFIG: '/tmp/scaler.yaml',
          SCALER_CONFIG_YAML: serviceConfigYaml,
          ...deps.policyEnv,
        },
        // The image holds no site config: write it from the task definition, then run the server as PID 1.
        command: [
          'sh',
          '-c',
          'printf "%s" "$SCALER_CONFIG_YAML" > /tmp/scaler.yaml && exec node dist/src/main/server.js',
        ],
      },
    });
    service.targetGroup.configureHealthCheck({ path: '/healthz' });
    const scheme = svc.certificateArn ? 'https' : 'http';
    new CfnOutput(this, 'ServiceUrl', { value: `${scheme}://${service.loadBalancer.loadBalancerDnsName}` });
  }
}

/**
 * The deployed folder: the bundle plus the service config (`scaler.json`), staged by CDK's local bundling (no Docker).
 * The asset hash is
 * taken from the output, so a config change alone deploys a new version.
 */
function bundleWithConfig(lambdaDir: string, serviceConfigYaml: string): lambda.Code {
  return lambda.Code.fromAsset(lambdaDir, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never used: local bundling always succeeds, but the type requires an image.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/busybox'),
      local: {
        tryBundle(outputDir: string): boolean {
          cpSync(lambdaDir, outputDir, { recursive: true });
          writeFileSync(join(outputDir, LAMBDA_CONFIG_FILE), lambdaConfigJson(serviceConfigYaml));
          return true;
        },
      },
    },
  });
}
