/** Every request name the service answers: GoCD elastic-agent extension v5, plus the two plugin-settings requests. */
export const GOCD_REQUEST_NAMES = [
  'cd.go.elastic-agent.get-icon',
  'cd.go.elastic-agent.get-capabilities',
  'cd.go.elastic-agent.get-elastic-agent-profile-metadata',
  'cd.go.elastic-agent.get-elastic-agent-profile-view',
  'cd.go.elastic-agent.validate-elastic-agent-profile',
  'cd.go.elastic-agent.get-cluster-profile-metadata',
  'cd.go.elastic-agent.get-cluster-profile-view',
  'cd.go.elastic-agent.validate-cluster-profile',
  'cd.go.elastic-agent.migrate-config',
  'cd.go.elastic-agent.cluster-profile-changed',
  'cd.go.elastic-agent.create-agent',
  'cd.go.elastic-agent.should-assign-work',
  'cd.go.elastic-agent.server-ping',
  'cd.go.elastic-agent.job-completion',
  'cd.go.elastic-agent.plugin-status-report',
  'cd.go.elastic-agent.cluster-status-report',
  'cd.go.elastic-agent.agent-status-report',
  'go.plugin-settings.get-configuration',
  'go.plugin-settings.get-view',
] as const;

export type GocdRequestName = (typeof GOCD_REQUEST_NAMES)[number];

/** Narrowing check for a request name taken from a URL. */
export function isGocdRequestName(name: string): name is GocdRequestName {
  return NAMES.has(name);
}

const NAMES: ReadonlySet<string> = new Set(GOCD_REQUEST_NAMES);
