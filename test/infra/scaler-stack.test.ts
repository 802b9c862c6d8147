import { App, aws_lambda as lambda } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVICE_CONFIG, ScalerStack } from '../../infra/lib/scaler-stack.js';
import { resolveStackConfig, type ScalerStackConfig } from '../../infra/lib/stack-config.js';
import { LAMBDA_RUNTIME } from '../../scripts/bundle.js';

// The CDK stack, asserted on its synthesized CloudFormation: least-privilege IAM first, then the wiring of the
// Lambda, its queues, rules, store, secrets and alarms, then the optional capacity and container deployment.

type Json = Record<string, unknown>;

const TASK_ROLE = 'arn:aws:iam::123456789012:role/gocd-agent-task';
const EXEC_ROLE = 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole';

function synth(overrides: Partial<ScalerStackConfig> = {}): Template {
  const config = resolveStackConfig({
    taskRoleArns: [TASK_ROLE],
    executionRoleArns: [EXEC_ROLE],
    extraTaskDefinitionFamilies: ['legacy-agent'],
    ecrRepositories: ['team/app', 'base-images'],
    registrySecretNames: ['REGISTRY_HOOK_SECRET'],
    ...overrides,
  });
  const app = new App();
  const stack = new ScalerStack(app, 'Test', {
    config,
    lambdaDir: '/nonexistent',
    serviceConfigYaml: DEFAULT_SERVICE_CONFIG,
    lambdaCode: lambda.Code.fromInline('export const handler = async () => ({});'),
  });
  return Template.fromStack(stack);
}

/** A CloudFormation value as text: `Fn::Join` flattened, `Ref`s and `Fn::GetAtt`s as `<…>`. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if (Array.isArray(v)) return v.map(text).join(',');
  if (v && 'Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(text).join(sep);
  }
  if (v && 'Ref' in v) return `<${String(v.Ref)}>`;
  if (v && 'Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  return JSON.stringify(v);
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
}

/** Every IAM statement of every policy, managed policy and inline role policy in the template. */
function allStatements(template: Template): Statement[] {
  const out: Statement[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const r of Object.values(template.findResources(type)) as Json[]) {
      const doc = (r.Properties as Json).PolicyDocument as { Statement: Statement[] };
      out.push(...doc.Statement);
    }
  }
  for (const r of Object.values(template.findResources('AWS::IAM::Role')) as Json[]) {
    for (const p of ((r.Properties as Json).Policies as { PolicyDocument: { Statement: Statement[] } }[]) ?? []) {
      out.push(...p.PolicyDocument.Statement);
    }
  }
  return out;
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resources = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map(text);
const ECS = 'arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>';

describe('IAM: least privilege', () => {
  const template = synth();
  const statements = allStatements(template);
  const bySid = (sid: string) => statements.find((s) => s.Sid === sid)!;

  it('allows RunTask only on gocd-agent-* and the named families, only in the agents cluster', () => {
    const run = statements.filter((s) => actions(s).includes('ecs:RunTask'));
    expect(run).toHaveLength(1);
    expect(resources(run[0]!)).toEqual([
      `${ECS}:task-definition/gocd-agent-*:*`,
      `${ECS}:task-definition/legacy-agent:*`,
    ]);
    expect(text((run[0]!.Condition as { ArnEquals: Json }).ArnEquals['ecs:cluster'])).toBe(
      `${ECS}:cluster/gocd-agents`,
    );
  });

  it('never grants RunTask, PassRole, StopTask or TagResource on "*" nor on every task definition', () => {
    for (const s of statements) {
      for (const a of actions(s)) {
        if (['ecs:RunTask', 'iam:PassRole', 'ecs:StopTask', 'ecs:TagResource', 'ecs:DescribeTasks'].includes(a)) {
          expect(resources(s), `${a} in ${s.Sid}`).not.toContain('*');
          expect(resources(s).some((r) => r.endsWith(':task-definition/*'))).toBe(false);
        }
      }
      expect(actions(s)).not.toContain('ecs:*');
      expect(actions(s)).not.toContain('iam:*');
    }
  });

  it('passes only the configured task and execution roles, and only to ECS tasks', () => {
    const pass = statements.filter((s) => actions(s).includes('iam:PassRole'));
    expect(pass).toHaveLength(1);
    expect(resources(pass[0]!)).toEqual([TASK_ROLE, EXEC_ROLE]);
    expect(pass[0]!.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
  });

  it('conditions StopTask/DescribeTasks and ListTasks on the cluster', () => {
    const manage = bySid('ManageAgentTasks');
    expect(actions(manage).sort()).toEqual(['ecs:DescribeTasks', 'ecs:StopTask']);
    expect(resources(manage)).toEqual([`${ECS}:task/gocd-agents/*`]);
    expect(manage.Condition).toMatchObject({ ArnEquals: { 'ecs:cluster': expect.anything() } });
    const list = bySid('ListAgentTasks');
    expect(actions(list)).toEqual(['ecs:ListTasks']);
    expect(text((list.Condition as { ArnEquals: Json }).ArnEquals['ecs:cluster'])).toBe(`${ECS}:cluster/gocd-agents`);
  });

  it('tags only on create, registers task definitions, reads only the configured ECR repositories', () => {
    const tag = bySid('TagOnCreate');
    expect(actions(tag)).toEqual(['ecs:TagResource']);
    expect(tag.Condition).toEqual({ StringEquals: { 'ecs:CreateAction': ['RunTask', 'RegisterTaskDefinition'] } });
    expect(actions(bySid('DescribeTaskDefinitions'))).toEqual(['ecs:DescribeTaskDefinition']);
    const ecr = bySid('ReadPushedImages');
    expect(actions(ecr).sort()).toEqual(['ecr:BatchGetImage', 'ecr:DescribeImages']);
    expect(resources(ecr)).toEqual([
      'arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/team/app',
      'arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/base-images',
    ]);
  });

  it('registers task definitions only in the gocd-agent-* families the service registers', () => {
    const register = statements.filter((s) => actions(s).includes('ecs:RegisterTaskDefinition'));
    expect(register).toHaveLength(1);
    expect(actions(register[0]!)).toEqual(['ecs:RegisterTaskDefinition']);
    expect(resources(register[0]!)).toEqual([
      'arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task-definition/gocd-agent-*:*',
    ]);
  });

  it('gives DynamoDB item access on the store table only, and secret reads on its own secrets only', () => {
    const dynamo = statements.filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(1);
    expect(actions(dynamo[0]!).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(resources(dynamo[0]!)).toEqual([expect.stringMatching(/^<Store[0-9A-F]+\.Arn>$/)]);
    const secretReads = statements.filter((s) => actions(s).includes('secretsmanager:GetSecretValue'));
    expect(secretReads.flatMap(resources).sort()).toEqual(
      [
        expect.stringMatching(/^<ForwarderToken/),
        expect.stringMatching(/^<GocdApiToken/),
        expect.stringMatching(/^<RegistrySecretREGISTRYHOOKSECRET/),
      ].sort(),
    );
  });

  it('has no PassRole statement at all when no role is configured', () => {
    const bare = allStatements(synth({ taskRoleArns: [], executionRoleArns: [] }));
    expect(bare.filter((s) => actions(s).includes('iam:PassRole'))).toEqual([]);
  });

  it('refuses wildcard roles and families in the stack config', () => {
    expect(() => resolveStackConfig({ taskRoleArns: ['arn:aws:iam::123456789012:role/*'] })).toThrow(/no wildcards/);
    expect(() => resolveStackConfig({ taskRoleArns: ['*'] })).toThrow(/no wildcards/);
    expect(() => resolveStackConfig({ extraTaskDefinitionFamilies: ['gocd-*'] })).toThrow(/family/);
  });
});

describe('Lambda deployment', () => {
  const template = synth();

  it('runs the bundle on the runtime the bundle targets (nodejs24.x), arm64, with secrets referenced by ARN and the queue and table named', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: LAMBDA_RUNTIME,
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({
          SCALER_CONFIG: '/var/task/scaler.json',
          SCALER_FORWARDER_TOKEN_SECRET_ARN: { Ref: Match.stringLikeRegexp('^ForwarderToken') },
          GOCD_API_TOKEN_SECRET_ARN: { Ref: Match.stringLikeRegexp('^GocdApiToken') },
          REGISTRY_HOOK_SECRET_SECRET_ARN: { Ref: Match.stringLikeRegexp('^RegistrySecretREGISTRYHOOKSECRET') },
          SCALER_RETRY_QUEUE_URL: { Ref: Match.stringLikeRegexp('^Retries') },
          SCALER_TABLE_NAME: { Ref: Match.stringLikeRegexp('^Store') },
          // The operator policy the stack writes names its own region and account through these.
          SCALER_STACK_REGION: { Ref: 'AWS::Region' },
          SCALER_STACK_ACCOUNT: { Ref: 'AWS::AccountId' },
        }),
      },
    });
    template.resourceCountIs('AWS::SecretsManager::Secret', 3);
  });

  it('exposes a Function URL (the app authenticates every route itself)', () => {
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE', InvokeMode: 'BUFFERED' });
  });

  it('sends async invocations that exhausted their retries to the DLQ (event-invoke config)', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeadLetters'), 'Arn'] } },
      },
    });
  });

  it('routes ECR pushes of the configured repositories to the function, with retries and the DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecr'],
        'detail-type': ['ECR Image Action', 'ECR Replication Action'],
        detail: {
          'action-type': ['PUSH', 'REPLICATE'],
          result: ['SUCCESS'],
          'repository-name': ['team/app', 'base-images'],
        },
      },
      Targets: [
        Match.objectLike({
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeadLetters'), 'Arn'] } },
          RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
        }),
      ],
    });
  });

  it('runs the backstop poll on a schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    expect(Object.keys(synth({ pollMinutes: 0 }).findResources('AWS::Events::Rule'))).toHaveLength(1);
  });

  it('consumes the retry queue with partial batch failures, redriving to the DLQ after 8 receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 720,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeadLetters'), 'Arn'] },
        maxReceiveCount: 8,
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Retries'), 'Arn'] },
    });
  });

  it('keeps dedupe keys in a DynamoDB table with TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it('alarms on function errors and on messages in the DLQ', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeadLetters'), 'QueueName'] } },
      ],
    });
  });
});

describe('optional capacity and container deployment', () => {
  const network = {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
  };

  it('adds an EC2 Auto Scaling group capacity provider to the agents cluster', () => {
    const t = synth({ capacity: { ...network, instanceType: 'm7g.large', maxCapacity: 4 } });
    t.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: 'gocd-agents' });
    t.hasResourceProperties('AWS::ECS::CapacityProvider', {
      Name: 'gocd-agents-ec2',
      AutoScalingGroupProvider: Match.objectLike({ ManagedScaling: Match.objectLike({ Status: 'ENABLED' }) }),
    });
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MaxSize: '4', MinSize: '0' });
  });

  it('associates the FARGATE and FARGATE_SPOT capacity providers when asked, with or without EC2 capacity', () => {
    const fargateOnly = synth({ fargateCapacityProviders: true });
    fargateOnly.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterName: 'gocd-agents',
      CapacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    });
    // No VPC of its own: the cluster needs none for Fargate tasks (their subnets come from the cluster profile).
    fargateOnly.resourceCountIs('AWS::EC2::VPC', 0);
    const both = synth({
      fargateCapacityProviders: true,
      capacity: { ...network, instanceType: 'm7g.large', maxCapacity: 4 },
    });
    both.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: Match.arrayWith(['FARGATE', 'FARGATE_SPOT']),
    });
    // Not asked: no cluster is created, or the EC2 one has only its own provider.
    synth().resourceCountIs('AWS::ECS::Cluster', 0);
    const ec2Only = synth({ capacity: { ...network, instanceType: 'm7g.large', maxCapacity: 4 } });
    const assoc = Object.values(ec2Only.findResources('AWS::ECS::ClusterCapacityProviderAssociations'))[0] as Json;
    expect(JSON.stringify(assoc)).not.toContain('FARGATE');
  });

  it('deploys the container image as a Fargate service with the same least-privilege policy', () => {
    const t = synth({
      lambda: false,
      containerService: { ...network, image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/gocd-agent-scaler:1.0.0' },
    });
    t.resourceCountIs('AWS::Lambda::Function', 0);
    t.hasResourceProperties('AWS::ECS::Service', { LaunchType: 'FARGATE' });
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/gocd-agent-scaler:1.0.0',
          PortMappings: [Match.objectLike({ ContainerPort: 8080 })],
          Environment: Match.arrayWith([{ Name: 'HOST', Value: '0.0.0.0' }]),
          Secrets: Match.arrayWith([Match.objectLike({ Name: 'SCALER_FORWARDER_TOKEN' })]),
        }),
      ],
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'ecs-tasks.amazonaws.com' } })],
      }),
      ManagedPolicyArns: [{ Ref: Match.stringLikeRegexp('^AgentControl') }],
    });
  });
});
