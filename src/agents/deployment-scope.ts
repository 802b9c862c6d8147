import type { ClusterProfile } from './profiles.js';

/**
 * Where this deployment may launch ECS agents: the clusters and regions its own IAM policy allows (the CDK stack gives
 * them to the service as `SCALER_ECS_CLUSTERS` / `SCALER_ECS_REGIONS`, or `ecs.clusters` / `ecs.regions` in the
 * config). Empty means "not restricted". An operator policy can narrow the same lists.
 */
export interface DeploymentScope {
  clusters: readonly string[];
  regions: readonly string[];
}

/** `arn:aws:ecs:<region>:<account>:cluster/<name>` → its region and name. */
function parseClusterRef(ref: string): { region?: string; name: string } {
  const m = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):\d{12}:cluster\/(.+)$/.exec(ref);
  return m ? { region: m[1], name: m[2]! } : { name: ref };
}

/**
 * Why an ECS cluster profile points outside the deployment (its IAM policy would answer AccessDenied to every call),
 * or undefined when it is inside or the scope does not apply: other backends, and clusters reached through
 * `assume_role_arn` (another account's role decides there).
 */
export function scopeProblem(cluster: ClusterProfile, scope: DeploymentScope | undefined): string | undefined {
  if (!scope || cluster.backend !== 'ecs' || cluster.assumeRoleArn || !cluster.cluster) return undefined;
  const ref = parseClusterRef(cluster.cluster);
  const region = cluster.region ?? ref.region;
  if (scope.clusters.length > 0 && !scope.clusters.includes(ref.name)) {
    return `ECS cluster '${ref.name}' is outside this deployment, which may launch agents only in ${scope.clusters.map((c) => `'${c}'`).join(', ')} (its IAM policy would answer AccessDenied); name one of those, or give the deployment this cluster`;
  }
  if (region && scope.regions.length > 0 && !scope.regions.includes(region)) {
    return `region '${region}' is outside this deployment, which may launch agents only in ${scope.regions.join(', ')} (its IAM policy would answer AccessDenied); use that region, or deploy the scaler there`;
  }
  return undefined;
}
