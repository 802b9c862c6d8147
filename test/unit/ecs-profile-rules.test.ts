import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { completionStopReason, isCompletionStopReason, STOP_REASON_MAX } from '../../src/agents/job.js';

import { ECS_RULES, fargateSizeProblem } from '../../src/backends/ecs/ecs-profile-rules.js';
import { job } from '../support/gocd-bodies.js';
import {
  launchRefusal,
  parseClusterProfile,
  parseElasticProfile,
  validateClusterProperties,
  validateElasticProperties,
} from '../support/profiles.js';

// Every ECS rule that links fields (src/agents/ecs-profile-rules.ts, docs/DESIGN.md) with the combination ECS would
// refuse and the nearest one it accepts, checked where the service checks it: validate-cluster-profile,
// validate-elastic-agent-profile, or create-agent (both profiles).

type Props = Record<string, string>;
const ECS = { go_server_url: 'https://gocd.example.com/go', cluster: 'ci' };
const IMAGE = { image: 'gocd/gocd-agent-debian-12:v25.1.0' };
const ROLE = 'arn:aws:iam::123456789012:role/exec';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry';

interface Case {
  /** Failing combination, and the property key (profiles) or refusal text (create-agent) it earns. */
  fail: { cluster?: Props; profile?: Props; key?: string; reason?: RegExp };
  /** The nearest combination ECS accepts. */
  pass: { cluster?: Props; profile?: Props };
}

const CASES: Record<string, Case[]> = {
  'awsvpc-subnets': [
    {
      fail: { cluster: { launch_type: 'FARGATE' }, key: 'subnets' },
      pass: { cluster: { launch_type: 'FARGATE', subnets: 'subnet-1' } },
    },
    {
      fail: { cluster: { capacity_provider: 'FARGATE_SPOT' }, key: 'subnets' },
      pass: { cluster: { capacity_provider: 'FARGATE_SPOT', subnets: 'subnet-1' } },
    },
    {
      fail: { cluster: { capacity_provider: 'FARGATE' }, key: 'subnets' },
      pass: { cluster: { capacity_provider: 'FARGATE', subnets: 'subnet-1' } },
    },
  ],
  'public-ip-fargate-only': [
    {
      fail: { cluster: { launch_type: 'EC2', subnets: 'subnet-1', assign_public_ip: 'true' }, key: 'assign_public_ip' },
      pass: { cluster: { launch_type: 'FARGATE', subnets: 'subnet-1', assign_public_ip: 'true' } },
    },
    {
      fail: {
        cluster: { capacity_provider: 'gocd-agents-ec2', subnets: 'subnet-1', assign_public_ip: 'true' },
        key: 'assign_public_ip',
      },
      pass: { cluster: { capacity_provider: 'FARGATE_SPOT', subnets: 'subnet-1', assign_public_ip: 'true' } },
    },
  ],
  'external-no-awsvpc': [
    {
      fail: { cluster: { launch_type: 'EXTERNAL', subnets: 'subnet-1' }, key: 'subnets' },
      pass: { cluster: { launch_type: 'EXTERNAL' } },
    },
    {
      fail: { cluster: { launch_type: 'EXTERNAL', security_groups: 'sg-1' }, key: 'security_groups' },
      pass: { cluster: { launch_type: 'EXTERNAL' } },
    },
  ],
  'security-groups-need-subnets': [
    {
      fail: { cluster: { security_groups: 'sg-1' }, key: 'security_groups' },
      pass: { cluster: { security_groups: 'sg-1', subnets: 'subnet-1' } },
    },
  ],
  'awslogs-execution-role': [
    {
      fail: { cluster: { launch_type: 'FARGATE', subnets: 's', log_group: '/gocd' }, key: 'execution_role_arn' },
      pass: { cluster: { launch_type: 'FARGATE', subnets: 's', log_group: '/gocd', execution_role_arn: ROLE } },
    },
    {
      fail: { cluster: { launch_type: 'EXTERNAL', log_group: '/gocd' }, key: 'execution_role_arn' },
      pass: { cluster: { launch_type: 'EXTERNAL', log_group: '/gocd', execution_role_arn: ROLE } },
    },
    // On EC2 the container instance role writes the logs: no execution role needed.
    {
      fail: {
        cluster: { capacity_provider: 'FARGATE_SPOT', subnets: 's', log_group: '/gocd' },
        key: 'execution_role_arn',
      },
      pass: { cluster: { launch_type: 'EC2', log_group: '/gocd' } },
    },
  ],
  'exec-needs-task-role': [
    {
      fail: { profile: { enable_execute_command: 'true' }, key: 'task_role_arn' },
      pass: { profile: { enable_execute_command: 'true', task_role_arn: 'arn:aws:iam::123456789012:role/job' } },
    },
  ],
  'capability-names': [
    {
      fail: { profile: { docker_mode: 'sidecar', capabilities: 'SYS_ADMIN,NET_PRIVILEGED' }, key: 'capabilities' },
      pass: { profile: { docker_mode: 'sidecar', capabilities: 'SYS_ADMIN,CAP_NET_ADMIN' } },
    },
  ],
  'fargate-task-size': [
    {
      fail: {
        cluster: { launch_type: 'FARGATE', subnets: 's' },
        profile: { cpu: '1024', memory: '1024' },
        reason: /memory must be 2048 to 8192 in steps of 1024/,
      },
      pass: { cluster: { launch_type: 'FARGATE', subnets: 's' }, profile: { cpu: '1024', memory: '2048' } },
    },
    {
      fail: {
        cluster: { capacity_provider: 'FARGATE_SPOT', subnets: 's' },
        profile: { cpu: '4096', memory: '32768' },
        reason: /8192 to 30720/,
      },
      pass: { cluster: { capacity_provider: 'FARGATE_SPOT', subnets: 's' }, profile: { cpu: '4096', memory: '30720' } },
    },
    {
      fail: {
        cluster: { launch_type: 'FARGATE', subnets: 's' },
        profile: { cpu: '384', memory: '1024' },
        reason: /cpu 384 is not a Fargate task size/,
      },
      pass: { cluster: { launch_type: 'EC2' }, profile: { cpu: '384', memory: '1024' } },
    },
  ],
  'fargate-docker-mode': [
    {
      fail: {
        cluster: { capacity_provider: 'FARGATE_SPOT', subnets: 's', allow_privileged: 'true' },
        profile: { docker_mode: 'sidecar', capabilities: 'SYS_PTRACE' },
        reason:
          /^docker_mode sidecar cannot run on the FARGATE_SPOT capacity provider \(Fargate\) \(no privileged containers, no host socket\)/,
      },
      pass: {
        cluster: { capacity_provider: 'gocd-agents-ec2', allow_privileged: 'true' },
        profile: { docker_mode: 'sidecar', capabilities: 'SYS_PTRACE' },
      },
    },
    {
      fail: {
        cluster: { launch_type: 'FARGATE', subnets: 's', allow_privileged: 'true' },
        profile: { docker_mode: 'privileged' },
        reason: /^docker_mode privileged cannot run on Fargate \(no privileged containers, no host socket\)/,
      },
      pass: { cluster: { launch_type: 'EC2', allow_privileged: 'true' }, profile: { docker_mode: 'privileged' } },
    },
  ],
  'repository-credentials-execution-role': [
    {
      fail: {
        cluster: { launch_type: 'EC2' },
        profile: { repository_credentials: SECRET },
        reason: /execution_role_arn/,
      },
      pass: { cluster: { launch_type: 'EC2', execution_role_arn: ROLE }, profile: { repository_credentials: SECRET } },
    },
  ],
};

const stageOf = (id: string) => ECS_RULES.find((r) => r.id === id)!.stage;

/** What the service says about a combination at the rule's stage: problem keys, or the create-agent refusal. */
function verdict(id: string, c: { cluster?: Props; profile?: Props }): { keys: string[]; refusal?: string } {
  const clusterProps = { ...ECS, ...c.cluster };
  const profileProps = { ...IMAGE, ...c.profile };
  switch (stageOf(id)) {
    case 'cluster-profile':
      return { keys: validateClusterProperties(clusterProps).map((p) => p.key) };
    case 'elastic-profile':
      return { keys: validateElasticProperties(profileProps).map((p) => p.key) };
    case 'create-agent': {
      // Both profiles are valid on their own: only the combination is refused.
      expect(validateClusterProperties(clusterProps)).toEqual([]);
      expect(validateElasticProperties(profileProps)).toEqual([]);
      return { keys: [], refusal: launchRefusal(parseClusterProfile(clusterProps), parseElasticProfile(profileProps)) };
    }
  }
}

describe('ECS linked-field rules, refused before any ECS call', () => {
  it('every rule of the table has a failing and a passing case', () => {
    expect(Object.keys(CASES).sort()).toEqual(ECS_RULES.map((r) => r.id).sort());
  });

  for (const rule of ECS_RULES) {
    describe(`${rule.id} (${rule.stage})`, () => {
      (CASES[rule.id] ?? []).forEach((c, i) => {
        it(`case ${i + 1}: refuses ${JSON.stringify({ ...c.fail.cluster, ...c.fail.profile })}`, () => {
          const v = verdict(rule.id, c.fail);
          if (c.fail.key) expect(v.keys).toContain(c.fail.key);
          if (c.fail.reason) expect(v.refusal).toMatch(c.fail.reason);
        });
        it(`case ${i + 1}: accepts the nearest ${JSON.stringify({ ...c.pass.cluster, ...c.pass.profile })}`, () => {
          const v = verdict(rule.id, c.pass);
          expect(v.keys).toEqual([]);
          expect(v.refusal).toBeUndefined();
        });
      });
    });
  }

  it('a profile that names its own task_definition is not held to the size and credential rules (ECS checks its own)', () => {
    const fargate = parseClusterProfile({ ...ECS, launch_type: 'FARGATE', subnets: 's' });
    const own = parseElasticProfile({ ...IMAGE, cpu: '1024', memory: '1024', task_definition: 'my-agent:3' });
    expect(launchRefusal(fargate, own)).toBeUndefined();
    expect(
      validateElasticProperties({ ...IMAGE, enable_execute_command: 'true', task_definition: 'my-agent' }),
    ).toEqual([]);
  });

  it('the Docker backend is not held to ECS networking rules', () => {
    expect(
      validateClusterProperties({ go_server_url: ECS.go_server_url, backend: 'docker', security_groups: 'sg-1' }),
    ).toEqual([]);
  });

  it('knows every Fargate task size of the developer guide and no other', () => {
    const valid: [number, number][] = [
      [256, 512],
      [256, 2048],
      [512, 1024],
      [512, 4096],
      [1024, 2048],
      [1024, 8192],
      [2048, 4096],
      [2048, 16384],
      [4096, 8192],
      [4096, 30720],
      [8192, 16384],
      [8192, 61440],
      [16384, 32768],
      [16384, 122880],
    ];
    for (const [cpu, memory] of valid) expect(fargateSizeProblem(cpu, memory), `${cpu}/${memory}`).toBeUndefined();
    const invalid: [number, number][] = [
      [256, 1536],
      [256, 3072],
      [512, 512],
      [512, 5120],
      [1024, 9216],
      [2048, 17408],
      [4096, 31744],
      [8192, 18432],
      [8192, 65536],
      [16384, 36864],
      [16384, 131072],
      [128, 512],
      [32768, 65536],
    ];
    for (const [cpu, memory] of invalid) expect(fargateSizeProblem(cpu, memory), `${cpu}/${memory}`).toBeDefined();
  });
});

describe('StopTask reason of a completed job', () => {
  it('fits ECS’s 255 characters and keeps the trailing "completed" for the longest GoCD names', () => {
    const long = 'x'.repeat(255);
    const j = { ...job(7), pipeline_name: long, stage_name: long, job_name: long };
    const reason = completionStopReason(j);
    expect([...reason].length).toBeLessThanOrEqual(STOP_REASON_MAX);
    expect(reason).toMatch(/^GoCD job x+… completed$/);
    expect(isCompletionStopReason(reason)).toBe(true);
  });

  it('keeps a short path whole', () => {
    expect(completionStopReason(job(7))).toBe('GoCD job app/7/test/1/build completed');
  });
});

describe('docs/DESIGN.md', () => {
  it('keeps one table of these rules, each with its source', () => {
    const design = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'DESIGN.md'), 'utf8');
    for (const rule of ECS_RULES) {
      const row = design.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${rule.id}\``));
      expect(row, rule.id).toBeDefined();
      for (const url of rule.source.split('; ')) expect(row, `${rule.id} cites ${url}`).toContain(url);
    }
  });
});
