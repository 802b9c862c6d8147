import { App, aws_lambda as lambda } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BLOCK_IMDS_LINE } from '../../infra/lib/agent-hosts.js';
import { DEFAULT_SERVICE_CONFIG, ScalerStack } from '../../infra/lib/scaler-stack.js';
import { withStackPolicy } from '../../infra/lib/service-policy.js';
import { resolveStackConfig, type ScalerStackConfig } from '../../infra/lib/stack-config.js';
import { parseConfig } from '../../src/config/config-text.js';
import { clusterPolicyRefusal, parseClusterProfile } from '../support/profiles.js';

// Finding 8 of issue 16: the CDK app. Every combination docs/deploy-aws.md documents (Lambda, capacity, the container
// service internal or public, with or without the Lambda) synthesizes; a public load balancer is HTTPS with port 80
// only redirecting; agent hosts answer instance metadata only to themselves; the function has reserved concurrency;
// and the service config carries the policy for the stack's own cluster.

const network = {
  vpcId: 'vpc-0123456789abcdef0',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
};
const capacity = { ...network, instanceType: 'm7g.large', maxCapacity: 4 };
const service = { ...network, image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/gocd-agent-scaler:1.0.0' };
const publicService = {
  ...service,
  publicLoadBalancer: true,
  loadBalancerSubnetIds: ['subnet-0cccccccccccccccc', 'subnet-0dddddddddddddddd'],
  certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0f0f0f0f-1111-2222-3333-444444444444',
};

function synth(overrides: Partial<ScalerStackConfig>): Template {
  const app = new App();
  const stack = new ScalerStack(app, 'Combo', {
    config: resolveStackConfig(overrides),
    lambdaDir: '/nonexistent',
    serviceConfigYaml: DEFAULT_SERVICE_CONFIG,
    lambdaCode: lambda.Code.fromInline('export const handler = async () => ({});'),
  });
  return Template.fromStack(stack);
}

const COMBINATIONS: [string, Partial<ScalerStackConfig>][] = [
  ['Lambda only (the default)', {}],
  ['Lambda + EC2 capacity', { capacity }],
  ['Lambda + internal container service', { containerService: service }],
  ['container service only', { lambda: false, containerService: service }],
  ['container service only, public (HTTPS)', { lambda: false, containerService: publicService }],
  ['Lambda + capacity + public container service', { capacity, containerService: publicService }],
  ['capacity + internal container service, no Lambda', { lambda: false, capacity, containerService: service }],
  ['capacity + public container service, no Lambda', { lambda: false, capacity, containerService: publicService }],
];

describe('every documented combination synthesizes', () => {
  it.each(COMBINATIONS)('%s', (_name, overrides) => {
    const t = synth(overrides);
    // The scaler's function (capacity adds ECS's own instance-draining function, which is not ours).
    const ours = Object.values(t.findResources('AWS::Lambda::Function')).filter((f) =>
      String((f as { Properties: { Description?: string } }).Properties.Description).startsWith('gocd-agent-scaler'),
    );
    expect(ours).toHaveLength(overrides.lambda === false ? 0 : 1);
    t.resourceCountIs('AWS::ECS::Service', overrides.containerService ? 1 : 0);
    t.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', overrides.capacity ? 1 : 0);
    // Launch configurations are closed to new accounts: agent hosts come from a launch template.
    t.resourceCountIs('AWS::AutoScaling::LaunchConfiguration', 0);
  });
});

describe('public load balancer', () => {
  it('listens on HTTPS with the certificate; port 80 only redirects to it', () => {
    const t = synth({ lambda: false, capacity, containerService: publicService });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: publicService.certificateArn }],
    });
    const listeners = Object.values(t.findResources('AWS::ElasticLoadBalancingV2::Listener')) as {
      Properties: { Port: number; Protocol: string; DefaultActions: { Type: string }[] };
    }[];
    const http = listeners.filter((l) => l.Properties.Protocol === 'HTTP');
    expect(http).toHaveLength(1);
    expect(http[0]!.Properties.Port).toBe(80);
    expect(http[0]!.Properties.DefaultActions.map((a) => a.Type)).toEqual(['redirect']);
    expect(JSON.stringify(http[0]!.Properties.DefaultActions)).toContain('"Protocol":"HTTPS"');
  });

  it('is refused without a certificate (tokens in clear) or without public subnets', () => {
    expect(() => resolveStackConfig({ containerService: { ...publicService, certificateArn: undefined } })).toThrow(
      /certificateArn: required when publicLoadBalancer is true/,
    );
    expect(() => resolveStackConfig({ containerService: { ...publicService, loadBalancerSubnetIds: [] } })).toThrow(
      /loadBalancerSubnetIds/,
    );
  });

  it('keeps an internal load balancer internal', () => {
    const t = synth({ containerService: service });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal' });
  });
});

describe('agent hosts', () => {
  it('answer instance metadata only with IMDSv2 tokens, one hop away at most, and block it for awsvpc tasks', () => {
    const t = synth({ capacity });
    t.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
      }),
    });
    const [template] = Object.values(t.findResources('AWS::EC2::LaunchTemplate')) as {
      Properties: { LaunchTemplateData: { UserData: unknown } };
    }[];
    const userData = JSON.stringify(template!.Properties.LaunchTemplateData.UserData);
    expect(userData).toContain(BLOCK_IMDS_LINE);
    expect(userData).toContain('ECS_CLUSTER=');
  });
});

describe('the function', () => {
  it('has reserved concurrency (20 by default, configurable)', () => {
    synth({}).hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 20 });
    synth({ reservedConcurrency: 5 }).hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 5,
    });
    expect(() => resolveStackConfig({ reservedConcurrency: 0 })).toThrow(/reservedConcurrency/);
  });

  it('gets the stack region and account the service config policy refers to', () => {
    synth({}).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SCALER_STACK_REGION: { Ref: 'AWS::Region' },
          SCALER_STACK_ACCOUNT: { Ref: 'AWS::AccountId' },
        }),
      },
    });
  });
});

describe('the operator policy the stack writes', () => {
  const config = resolveStackConfig({
    clusterName: 'ci-agents',
    assumeRoleArns: ['arn:aws:iam::210987654321:role/ecs-agents'],
    agentPolicy: { privileged: true },
  });

  it('names the stack’s cluster, the roles’ accounts’ clusters by account, its region, and allows what agentPolicy allows', () => {
    const yaml = withStackPolicy(DEFAULT_SERVICE_CONFIG, config);
    const env = {
      SCALER_FORWARDER_TOKEN: 'forwarder-token-0123456789',
      GOCD_API_TOKEN: 'api-token',
      SCALER_TABLE_NAME: 'table',
      SCALER_STACK_REGION: 'eu-west-1',
      SCALER_STACK_ACCOUNT: '123456789012',
    };
    const { policy } = parseConfig(yaml, 'stack', { env, allowGeneratedToken: false }).config;
    expect(policy).toEqual({
      docker: { engines: ['local'] },
      // The stack's cluster, and any cluster of the cross-account role's account (its names are that account's own).
      ecs: {
        clusters: ['ci-agents', 'arn:aws:ecs:eu-west-1:210987654321:cluster/*'],
        regions: ['eu-west-1'],
        accounts: ['123456789012', '210987654321'],
      },
      allow: { privileged: true, socketMount: false, hostNetwork: false, capabilities: [] },
    });
    // Before, a cross-account role dropped the cluster list: any cluster of the stack's own account passed.
    const profile = (props: Record<string, string>) =>
      parseClusterProfile({ go_server_url: 'https://g/go', cluster_id: 'e', ...props });
    const role = 'arn:aws:iam::210987654321:role/ecs-agents';
    expect(clusterPolicyRefusal(policy, profile({ cluster: 'ci-agents' }))).toBeUndefined();
    expect(clusterPolicyRefusal(policy, profile({ cluster: 'prod-services' }))).toContain('policy.ecs.clusters');
    expect(
      clusterPolicyRefusal(policy, profile({ cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod-services' })),
    ).toContain('policy.ecs.clusters');
    expect(clusterPolicyRefusal(policy, profile({ cluster: 'their-agents', assume_role_arn: role }))).toBeUndefined();
    expect(
      clusterPolicyRefusal(policy, profile({ cluster: 'their-agents', assume_role_arn: role, region: 'us-east-1' })),
    ).toContain('is not allowed by the operator policy');
  });

  it('names the stack’s own cluster when no cross-account role is configured', () => {
    const own = resolveStackConfig({ clusterName: 'ci-agents' });
    const env = {
      SCALER_FORWARDER_TOKEN: 'forwarder-token-0123456789',
      GOCD_API_TOKEN: 'api-token',
      SCALER_TABLE_NAME: 'table',
      SCALER_STACK_REGION: 'eu-west-1',
      SCALER_STACK_ACCOUNT: '123456789012',
    };
    const { policy } = parseConfig(withStackPolicy(DEFAULT_SERVICE_CONFIG, own), 'stack', {
      env,
      allowGeneratedToken: false,
    }).config;
    expect(policy.ecs).toEqual({ clusters: ['ci-agents'], regions: ['eu-west-1'], accounts: ['123456789012'] });
  });

  it('keeps an operator’s own policy as written', () => {
    const own = `${DEFAULT_SERVICE_CONFIG}policy:\n  ecs: { clusters: [mine] }\n`;
    expect(withStackPolicy(own, config)).toBe(own);
    expect((parseYaml(withStackPolicy(DEFAULT_SERVICE_CONFIG, config)) as { store: unknown }).store).toEqual({
      type: 'dynamodb',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a ${...} reference is the YAML under test
      tableName: '${SCALER_TABLE_NAME}',
    });
  });
});
