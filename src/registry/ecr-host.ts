const ECR_HOST = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** Account and region of a configured ECR host, or undefined when it is not an ECR host name. */
export function parseEcrHost(host: string): { account: string; region: string } | undefined {
  const m = ECR_HOST.exec(host);
  return m ? { account: m[1]!, region: m[2]! } : undefined;
}
