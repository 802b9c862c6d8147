import { describe, expect, it } from 'vitest';
import { fargateSizeProblem } from '../../src/backends/ecs/ecs-profile-rules.js';
import { asEcsCluster, ecsProfiles } from '../../src/backends/ecs/ecs-profiles.js';
import {
  clusterPolicyRefusal,
  dockerCluster,
  ecsCluster,
  ecsProfile,
  policyOf,
  validateClusterProperties,
  validateElasticProperties,
} from '../support/profiles.js';

// The ECS backend's profile values one at a time: what each refusal says (GoCD shows it in the profile form or the
// job console), which ARNs and task definitions are read, how the operator policy's cluster, region and account
// lists are matched, which client a profile uses. Rules come from ecs-profile-rules.ts (sources cited there).

const URL = { go_server_url: 'https://gocd.example.com/go' };
const ECS = { ...URL, cluster: 'ci' };
const ecsPolicy = (ecs: string) =>
  policyOf(`policy:
  ecs: ${ecs}
`);
const ROLE = 'arn:aws:iam::123456789012:role/exec';

describe('ECS cluster profile messages', () => {
  it('says which of launch_type and capacity_provider to drop, and that cluster is needed', () => {
    expect(
      validateClusterProperties({ ...URL, backend: 'ecs', launch_type: 'EC2', capacity_provider: 'cp' }),
    ).toMatchInlineSnapshot(`
        [
          {
            "key": "capacity_provider",
            "message": "set either launch_type or capacity_provider, not both",
          },
          {
            "key": "cluster",
            "message": "cluster must not be blank when backend is ecs",
          },
        ]
      `);
  });

  it('says assign_public_ip is Fargate-only, naming the launch settings ECS refuses it for', () => {
    expect(validateClusterProperties({ ...ECS, subnets: 's-1', assign_public_ip: 'true' })).toMatchInlineSnapshot(`
      [
        {
          "key": "assign_public_ip",
          "message": "assign_public_ip applies only to Fargate (launch_type FARGATE or capacity_provider FARGATE / FARGATE_SPOT); ECS refuses it for launch_type EC2",
        },
      ]
    `);
  });

  it('says EXTERNAL takes no awsvpc settings when only security groups are set', () => {
    expect(
      validateClusterProperties({ ...ECS, launch_type: 'EXTERNAL', security_groups: 'sg-1' }),
    ).toMatchInlineSnapshot(`
        [
          {
            "key": "security_groups",
            "message": "launch_type EXTERNAL (ECS Anywhere) does not support awsvpc networking: leave subnets and security_groups empty",
          },
        ]
      `);
  });

  it('says security groups need subnets', () => {
    expect(validateClusterProperties({ ...ECS, security_groups: 'sg-1' })).toMatchInlineSnapshot(`
      [
        {
          "key": "security_groups",
          "message": "security_groups need subnets (awsvpc networking)",
        },
      ]
    `);
  });

  it('says log_group needs an execution role on Fargate and on EXTERNAL, naming which', () => {
    expect(
      validateClusterProperties({ ...ECS, launch_type: 'FARGATE', subnets: 's-1', log_group: '/gocd' }),
    ).toMatchInlineSnapshot(`
      [
        {
          "key": "execution_role_arn",
          "message": "log_group on Fargate uses the awslogs driver, which needs execution_role_arn (the task execution role writes the logs)",
        },
      ]
    `);
    expect(validateClusterProperties({ ...ECS, launch_type: 'EXTERNAL', log_group: '/gocd' })).toMatchInlineSnapshot(`
      [
        {
          "key": "execution_role_arn",
          "message": "log_group on EXTERNAL uses the awslogs driver, which needs execution_role_arn (the task execution role writes the logs)",
        },
      ]
    `);
  });
});

describe('ECS elastic profile messages and values', () => {
  it('names every capability ECS does not accept', () => {
    expect(
      validateElasticProperties({
        image: 'agent:1',
        docker_mode: 'privileged',
        capabilities: 'SYS_ADMIN,FLY,NET_SWIM',
      }),
    ).toMatchInlineSnapshot(`
      [
        {
          "key": "capabilities",
          "message": "not a Linux capability ECS accepts: FLY, NET_SWIM (e.g. SYS_ADMIN, NET_ADMIN; see the KernelCapabilities list)",
        },
      ]
    `);
  });

  it('reads enable_execute_command', () => {
    expect(
      ecsProfile({ image: 'agent:1', enable_execute_command: 'true', task_role_arn: ROLE }).enableExecuteCommand,
    ).toBe(true);
    expect(ecsProfile({ image: 'agent:1' }).enableExecuteCommand).toBe(false);
  });

  it('accepts a task definition ARN of another partition, with or without a revision of several digits', () => {
    for (const td of [
      'arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/app:12',
      'arn:aws:ecs:eu-west-1:123456789012:task-definition/app',
      'arn:aws:ecs:eu-west-1:123456789012:task-definition/app:345',
      'app:12',
    ]) {
      expect(validateElasticProperties({ image: 'agent:1', task_definition: td }), td).toEqual([]);
    }
  });
});

describe('Fargate task sizes', () => {
  it('lists the Fargate cpu values when cpu is not one of them', () => {
    expect(fargateSizeProblem(300, 1024)).toBe(
      'cpu 300 is not a Fargate task size; Fargate takes cpu 256, 512, 1024, 2048, 4096, 8192, 16384',
    );
  });

  it('lists the memory values of a cpu with a fixed list, and the range and step of the others', () => {
    expect(fargateSizeProblem(256, 1536)).toBe(
      'Fargate does not run cpu 256 with memory 1536; with cpu 256 memory must be 512, 1024, 2048 (MiB)',
    );
    expect(fargateSizeProblem(1024, 2500)).toBe(
      'Fargate does not run cpu 1024 with memory 2500; with cpu 1024 memory must be 2048 to 8192 in steps of 1024 (MiB)',
    );
    expect(fargateSizeProblem(1024, 3072)).toBeUndefined();
  });
});

describe('ECS clusters, regions and accounts in the operator policy', () => {
  const arn = (region: string, account: string, name: string, partition = 'aws') =>
    `arn:${partition}:ecs:${region}:${account}:cluster/${name}`;

  it('allows a cluster listed by its exact ARN', () => {
    const ci = arn('eu-west-1', '123456789012', 'ci');
    expect(
      clusterPolicyRefusal(ecsPolicy(`{ clusters: ['${ci}'] }`), ecsCluster({ ...URL, cluster: ci })),
    ).toBeUndefined();
  });

  it('refuses a cluster whose ARN another ARN entry does not name (and does not fail on it)', () => {
    const policy = ecsPolicy(`{ clusters: ['${arn('eu-west-1', '123456789012', 'prod')}'] }`);
    expect(
      clusterPolicyRefusal(policy, ecsCluster({ ...URL, cluster: arn('eu-west-1', '123456789012', 'ci') })),
    ).toContain('is not allowed by the operator policy (policy.ecs.clusters:');
  });

  it('lets an account wildcard of any region allow that account in every region', () => {
    const policy = ecsPolicy(`{ clusters: ['${arn('*', '123456789012', '*')}'] }`);
    expect(clusterPolicyRefusal(policy, ecsCluster({ ...URL, cluster: arn('ap-south-1', '123456789012', 'ci') }))).toBe(
      undefined,
    );
    expect(
      clusterPolicyRefusal(policy, ecsCluster({ ...URL, cluster: arn('ap-south-1', '210987654321', 'ci') })),
    ).toContain('policy.ecs.clusters');
  });

  it('reads a wildcard and cluster ARNs of another partition', () => {
    const policy = ecsPolicy(`{ clusters: ['${arn('cn-north-1', '123456789012', '*', 'aws-cn')}'] }`);
    expect(
      clusterPolicyRefusal(policy, ecsCluster({ ...URL, cluster: arn('cn-north-1', '123456789012', 'ci', 'aws-cn') })),
    ).toBeUndefined();
    const regions = ecsPolicy('{ regions: [eu-west-1] }');
    expect(
      clusterPolicyRefusal(regions, ecsCluster({ ...URL, cluster: arn('cn-north-1', '123456789012', 'ci', 'aws-cn') })),
    ).toBe("region 'cn-north-1' is not allowed by the operator policy (policy.ecs.regions: eu-west-1)");
  });

  it('takes only a whole `cluster/*` entry as a wildcard', () => {
    const policy = ecsPolicy(`{ clusters: ['${arn('eu-west-1', '123456789012', '*-prod')}'] }`);
    expect(
      clusterPolicyRefusal(policy, ecsCluster({ ...URL, cluster: arn('eu-west-1', '123456789012', 'ci') })),
    ).toContain('policy.ecs.clusters');
    const nested = ecsPolicy(`{ clusters: ['arn:x:${arn('*', '123456789012', '*')}'] }`);
    expect(
      clusterPolicyRefusal(nested, ecsCluster({ ...URL, cluster: arn('eu-west-1', '123456789012', 'ci') })),
    ).toContain('policy.ecs.clusters');
  });

  it('reads a region only from a whole cluster ARN', () => {
    const regions = ecsPolicy('{ regions: [eu-west-1] }');
    for (const cluster of [
      `x${arn('us-east-1', '123456789012', 'ci')}`,
      `${arn('us-east-1', '123456789012', 'a')}\nb`,
    ]) {
      expect(clusterPolicyRefusal(regions, ecsCluster({ ...URL, cluster })), cluster).toBeUndefined();
    }
  });

  it('reads the account of an assume_role_arn only from an IAM role ARN, of any partition', () => {
    const accounts = ecsPolicy("{ accounts: ['123456789012'] }");
    const withRole = (assume_role_arn: string) => ecsCluster({ ...ECS, assume_role_arn });
    expect(clusterPolicyRefusal(accounts, withRole('arn:aws-cn:iam::210987654321:role/x'))).toBe(
      'account 210987654321 (assume_role_arn) is not allowed by the operator policy (policy.ecs.accounts: 123456789012)',
    );
    expect(clusterPolicyRefusal(accounts, withRole('arn:aws:sts::210987654321:assumed-role/x'))).toBeUndefined();
    expect(
      clusterPolicyRefusal(accounts, withRole('arn:aws:sts::123456789012:assumed-role/arn:aws:iam::210987654321:x')),
    ).toBeUndefined();
  });
});

describe('ECS clients and cluster profiles', () => {
  it('uses one client per region and role, each named in its key', () => {
    const key = (props: Record<string, string>) => ecsProfiles.clientKey(ecsCluster({ ...ECS, ...props }));
    expect(key({})).toBe('|');
    expect(key({ region: 'eu-west-1' })).toBe('eu-west-1|');
    expect(key({ assume_role_arn: ROLE })).toBe(`|${ROLE}`);
    expect(key({ region: 'eu-west-1', assume_role_arn: ROLE })).toBe(`eu-west-1|${ROLE}`);
  });

  it('says where agents run, with the region when one is set', () => {
    expect(ecsCluster(ECS).where).toBe('ECS cluster ci');
    expect(ecsCluster({ ...ECS, region: 'eu-west-1' }).where).toBe('ECS cluster ci in eu-west-1');
  });

  it('needs nothing of the policy beyond its gates, and hands the ECS backend only ECS cluster profiles', () => {
    expect(ecsProfiles.needs(ecsCluster(ECS))).toEqual({});
    expect(() => asEcsCluster(dockerCluster(URL))).toThrow('not an ECS cluster profile: backend docker');
  });
});
