import type { DockerMode } from '../../src/agents/profile-properties.js';
import type { ClusterSpec } from './fake-ecs/fake-ecs-server.js';

/**
 * The ECS launch set-ups every ECS suite (contract, integration, lifecycle, soak) runs against the strict loopback
 * endpoint: each a cluster profile, the fake cluster it needs (with its capacity providers) and what it can run.
 */
export interface EcsSetup {
  /** Short id: part of cluster names and cluster ids (≤ 12 characters). */
  id: string;
  name: string;
  /** Cluster-profile properties besides go_server_url, cluster_id and cluster. */
  props: Record<string, string>;
  /** Capacity providers associated with the fake cluster. */
  capacityProviders: string[];
  /** Docker modes the set-up runs (Fargate runs none). */
  dockerModes: DockerMode[];
  /** Launch type or capacity provider ECS reports on its tasks. */
  expect: { launchType?: string; capacityProviderName?: string; networkMode: 'bridge' | 'awsvpc' };
}

const NETWORK = {
  subnets: 'subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb',
  security_groups: 'sg-0ccccccccccccccc',
};
const EXECUTION_ROLE = 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole';

export const ECS_SETUPS: readonly EcsSetup[] = [
  {
    id: 'ec2-bridge',
    name: 'EC2, bridge networking',
    props: { launch_type: 'EC2' },
    capacityProviders: [],
    dockerModes: ['none', 'privileged', 'sidecar', 'socket'],
    expect: { launchType: 'EC2', networkMode: 'bridge' },
  },
  {
    id: 'ec2-awsvpc',
    name: 'EC2, awsvpc networking',
    props: { launch_type: 'EC2', ...NETWORK },
    capacityProviders: [],
    dockerModes: ['none', 'privileged', 'sidecar', 'socket'],
    expect: { launchType: 'EC2', networkMode: 'awsvpc' },
  },
  {
    id: 'fargate',
    name: 'Fargate (launch type), public IP, awslogs',
    props: {
      launch_type: 'FARGATE',
      ...NETWORK,
      assign_public_ip: 'true',
      execution_role_arn: EXECUTION_ROLE,
      log_group: '/gocd/agents',
    },
    capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    dockerModes: ['none'],
    expect: { launchType: 'FARGATE', networkMode: 'awsvpc' },
  },
  {
    id: 'fargate-spot',
    name: 'Fargate Spot through the FARGATE_SPOT capacity provider',
    props: {
      capacity_provider: 'FARGATE_SPOT',
      ...NETWORK,
      execution_role_arn: EXECUTION_ROLE,
      log_group: '/gocd/agents',
    },
    capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    dockerModes: ['none'],
    expect: { capacityProviderName: 'FARGATE_SPOT', networkMode: 'awsvpc' },
  },
  {
    id: 'external',
    name: 'EXTERNAL (ECS Anywhere), awslogs',
    props: { launch_type: 'EXTERNAL', execution_role_arn: EXECUTION_ROLE, log_group: '/gocd/agents' },
    capacityProviders: [],
    dockerModes: ['none', 'privileged', 'sidecar', 'socket'],
    expect: { launchType: 'EXTERNAL', networkMode: 'bridge' },
  },
];

/** The fake ECS cluster of a set-up, named `<prefix>-<id>`. */
export function fakeClusterOf(setup: EcsSetup, prefix: string): ClusterSpec {
  return { name: `${prefix}-${setup.id}`, capacityProviders: setup.capacityProviders };
}

/** A profile size every set-up runs (a Fargate task size). */
export const SMALL_TASK = { cpu: '256', memory: '512' } as const;
