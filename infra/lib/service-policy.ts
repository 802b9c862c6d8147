import { parseDocument } from 'yaml';
import type { ScalerStackConfig } from './stack-config.js';

/** Environment variables the stack sets on the service, naming its own region and account for the policy. */
export const POLICY_ENV = { region: 'SCALER_STACK_REGION', account: 'SCALER_STACK_ACCOUNT' } as const;

/**
 * The operator policy the stack writes into the service config (DESIGN.md "Operator policy"): cluster profiles may
 * name, in the stack's region, the stack's own agents cluster and — through a configured cross-account role — any
 * cluster of that role's account (whose cluster names are that account's own), and may allow at most `agentPolicy`.
 * A config that already has a `policy:` is the operator's own and is kept as written.
 */
export function withStackPolicy(serviceConfigYaml: string, config: ScalerStackConfig): string {
  const doc = parseDocument(serviceConfigYaml);
  if (doc.has('policy')) return serviceConfigYaml;
  const region = `\${${POLICY_ENV.region}}`;
  const roles = config.assumeRoleArns
    .map((arn) => /^arn:(aws[a-z-]*):iam::(\d{12}):/.exec(arn))
    .filter((m): m is RegExpExecArray => m !== null);
  const roleAccounts = [...new Set(roles.map((m) => m[2]!))];
  const partitionOf = (account: string) => roles.find((m) => m[2] === account)![1]!;
  doc.set('policy', {
    ecs: {
      // Another account's clusters only by that account (an account wildcard matches a cluster whose ARN or
      // assume_role_arn is in it); in the stack's own account only its cluster.
      clusters: [
        config.clusterName,
        ...roleAccounts.map((account) => `arn:${partitionOf(account)}:ecs:${region}:${account}:cluster/*`),
      ],
      regions: [region],
      accounts: [`\${${POLICY_ENV.account}}`, ...roleAccounts],
    },
    allow: {
      privileged: config.agentPolicy.privileged ?? false,
      socketMount: config.agentPolicy.socketMount ?? false,
      hostNetwork: false,
      capabilities: config.agentPolicy.capabilities ?? [],
    },
  });
  return doc.toString();
}
