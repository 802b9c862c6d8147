import { Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { ScalerStackConfig } from './stack-config.js';

/** The task-definition family prefix the service registers (`gocd-agent-<profile hash>`). */
export const AGENT_FAMILY_PREFIX = 'gocd-agent-';

/**
 * What the service needs from ECS, ECR, IAM and STS, and nothing more:
 * - RunTask only on `gocd-agent-*` families and the named extra families, only in the agents' cluster;
 * - StopTask/DescribeTasks on that cluster's tasks, ListTasks conditioned on it (ListTasks has no task resource);
 * - RegisterTaskDefinition only on the `gocd-agent-*` families the service registers (ECS supports resource-level
 *   permissions on `task-definition/<family>:*` for it: Service Authorization Reference for Amazon ECS);
 *   DescribeTaskDefinition on `*` (no resource-level permission);
 * - TagResource only as part of RunTask/RegisterTaskDefinition (tags are the agents' inventory);
 * - PassRole only for the configured task/execution roles, and only to ECS tasks (CDK's grantPassRole adds no
 *   `iam:PassedToService` condition, so the statement is written out here);
 * - ECR reads only on the configured repositories; sts:AssumeRole only on the configured cross-account roles.
 */
export function scalerPolicyStatements(scope: Construct, config: ScalerStackConfig): PolicyStatement[] {
  const { partition, region, account } = Stack.of(scope);
  const ecs = (resource: string) => `arn:${partition}:ecs:${region}:${account}:${resource}`;
  const clusterArn = ecs(`cluster/${config.clusterName}`);
  const onCluster = { ArnEquals: { 'ecs:cluster': clusterArn } };
  const families = [`${AGENT_FAMILY_PREFIX}*`, ...config.extraTaskDefinitionFamilies];
  const taskDefinitions = families.map((f) => ecs(`task-definition/${f}:*`));
  const tasks = ecs(`task/${config.clusterName}/*`);

  const statements = [
    new PolicyStatement({
      sid: 'RunAgentTasks',
      effect: Effect.ALLOW,
      actions: ['ecs:RunTask'],
      resources: taskDefinitions,
      conditions: onCluster,
    }),
    new PolicyStatement({
      sid: 'ManageAgentTasks',
      effect: Effect.ALLOW,
      actions: ['ecs:StopTask', 'ecs:DescribeTasks'],
      resources: [tasks],
      conditions: onCluster,
    }),
    new PolicyStatement({
      sid: 'ListAgentTasks',
      effect: Effect.ALLOW,
      actions: ['ecs:ListTasks'],
      // ListTasks authorises on container instances, not tasks: the cluster condition is what scopes it.
      resources: ['*'],
      conditions: onCluster,
    }),
    new PolicyStatement({
      sid: 'RegisterAgentTaskDefinitions',
      effect: Effect.ALLOW,
      actions: ['ecs:RegisterTaskDefinition'],
      // Only the families the service itself registers; extra families are existing definitions it only runs.
      resources: [ecs(`task-definition/${AGENT_FAMILY_PREFIX}*:*`)],
    }),
    new PolicyStatement({
      sid: 'DescribeTaskDefinitions',
      effect: Effect.ALLOW,
      actions: ['ecs:DescribeTaskDefinition'],
      resources: ['*'],
    }),
    new PolicyStatement({
      sid: 'TagOnCreate',
      effect: Effect.ALLOW,
      actions: ['ecs:TagResource'],
      resources: [tasks, ...taskDefinitions],
      conditions: { StringEquals: { 'ecs:CreateAction': ['RunTask', 'RegisterTaskDefinition'] } },
    }),
  ];
  const passRoles = [...new Set([...config.taskRoleArns, ...config.executionRoleArns])];
  if (passRoles.length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'PassAgentRoles',
        effect: Effect.ALLOW,
        actions: ['iam:PassRole'],
        resources: passRoles,
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
  }
  if (config.ecrRepositories.length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'ReadPushedImages',
        effect: Effect.ALLOW,
        actions: ['ecr:DescribeImages', 'ecr:BatchGetImage'],
        resources: config.ecrRepositories.map((r) => `arn:${partition}:ecr:${region}:${account}:repository/${r}`),
      }),
    );
  }
  if (config.assumeRoleArns.length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'CrossAccountEcs',
        effect: Effect.ALLOW,
        actions: ['sts:AssumeRole'],
        resources: config.assumeRoleArns,
      }),
    );
  }
  return statements;
}
