import { aws_autoscaling as autoscaling, aws_ec2 as ec2, aws_ecs as ecs, aws_iam as iam } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CapacityConfig } from './stack-config.js';

/**
 * The ECS agent's setting that keeps `awsvpc` tasks away from the instance metadata service (and so from the instance
 * role): https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-agent-config.html (ECS_AWSVPC_BLOCK_IMDS).
 */
export const BLOCK_IMDS_LINE = 'echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config';

/**
 * The EC2 instances agents run on, from a launch template (EC2 Auto Scaling no longer offers launch configurations to
 * new accounts). Jobs run untrusted code next to the instance role, so the instance metadata service answers only
 * IMDSv2 requests from the instance itself: a hop limit of 1 drops the answer one network hop away (a container on a
 * Docker bridge), and ECS_AWSVPC_BLOCK_IMDS blocks awsvpc tasks. Host-network and privileged tasks can still reach
 * it — which is why the operator policy refuses them unless allowed.
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-existing-instances.html, hop limit;
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html, "Restricting access").
 */
export function agentHosts(
  scope: Construct,
  vpc: ec2.IVpc,
  capacity: CapacityConfig,
): { group: autoscaling.AutoScalingGroup } {
  const instanceType = new ec2.InstanceType(capacity.instanceType);
  const arm = instanceType.architecture === ec2.InstanceArchitecture.ARM_64;
  const userData = ec2.UserData.forLinux();
  userData.addCommands(BLOCK_IMDS_LINE);
  const template = new ec2.LaunchTemplate(scope, 'AgentLaunchTemplate', {
    instanceType,
    machineImage: ecs.EcsOptimizedImage.amazonLinux2023(arm ? ecs.AmiHardwareType.ARM : ecs.AmiHardwareType.STANDARD),
    role: new iam.Role(scope, 'AgentInstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') }),
    securityGroup: new ec2.SecurityGroup(scope, 'AgentInstanceSecurityGroup', { vpc, allowAllOutbound: true }),
    userData,
    requireImdsv2: true,
    httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
    httpPutResponseHopLimit: 1,
  });
  const group = new autoscaling.AutoScalingGroup(scope, 'AgentInstances', {
    vpc,
    vpcSubnets: { subnets: vpc.privateSubnets },
    launchTemplate: template,
    minCapacity: capacity.minCapacity ?? 0,
    maxCapacity: capacity.maxCapacity,
  });
  return { group };
}
