import { parseDocument } from 'yaml';
import type { ScalerStackConfig } from './stack-config.js';

/** Environment variables the stack sets on the service, naming its own region and account for the policy. */
export const POLICY_ENV = { region: 'SCALER_STACK_REGION', account: 'SCALER_STACK_ACCOUNT' } as const;

/**
 * The operator policy the stack writes into the service config (DESIGN.md "Operator policy"): cluster profiles may
 * name only the stack's own agents cluster (any cluster of the configured cross-account roles' accounts), in its own region, in its own account or those of the configured
 * cross-account roles, and may allow at most `agentPolicy`. A config that already has a `policy:` is the operator's
 * own and is kept as written.
 */
export function withStackPolicy(serviceConfigYaml: string, config: ScalerStackConfig): string {
  const doc = parseDocument(serviceConfigYaml);
  if (doc.has('policy')) return serviceConfigYaml;
  const roleAccounts = config.assumeRoleArns.map((arn) => /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(arn)?.[1] ?? '');
  const accounts = [...new Set([`\${${POLICY_ENV.account}}`, ...roleAccounts.filter((a) => a !== '')])];
  doc.set('policy', {
    // With cross-account roles, the other accounts' cluster names are theirs: the accounts bound those instead.
    ecs: {
      ...(config.assumeRoleArns.length === 0 ? { clusters: [config.clusterName] } : {}),
      regions: [`\${${POLICY_ENV.region}}`],
      accounts,
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
