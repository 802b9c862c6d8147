import type { GocdRequestBodies } from '../contract/generated/gocd-messages.js';

/** A request name the service answers: the keys of openapi.yaml's `x-gocd-requests`. */
export type GocdRequestName = keyof GocdRequestBodies & string;

// Every name of `x-gocd-requests` (in the order metadata and tests list them): the record type makes a name
// missing here, or one openapi.yaml does not have, a compile error.
const NAMES: Readonly<Record<GocdRequestName, true>> = {
  'cd.go.elastic-agent.get-icon': true,
  'cd.go.elastic-agent.get-capabilities': true,
  'cd.go.elastic-agent.get-elastic-agent-profile-metadata': true,
  'cd.go.elastic-agent.get-elastic-agent-profile-view': true,
  'cd.go.elastic-agent.validate-elastic-agent-profile': true,
  'cd.go.elastic-agent.get-cluster-profile-metadata': true,
  'cd.go.elastic-agent.get-cluster-profile-view': true,
  'cd.go.elastic-agent.validate-cluster-profile': true,
  'cd.go.elastic-agent.migrate-config': true,
  'cd.go.elastic-agent.cluster-profile-changed': true,
  'cd.go.elastic-agent.create-agent': true,
  'cd.go.elastic-agent.should-assign-work': true,
  'cd.go.elastic-agent.server-ping': true,
  'cd.go.elastic-agent.job-completion': true,
  'cd.go.elastic-agent.plugin-status-report': true,
  'cd.go.elastic-agent.cluster-status-report': true,
  'cd.go.elastic-agent.agent-status-report': true,
  'go.plugin-settings.get-configuration': true,
  'go.plugin-settings.get-view': true,
};

/** Every request name the service answers: GoCD elastic-agent extension v5, plus the two plugin-settings requests. */
export const GOCD_REQUEST_NAMES = Object.keys(NAMES) as readonly GocdRequestName[];

/** Narrowing check for a request name taken from a URL. */
export function isGocdRequestName(name: string): name is GocdRequestName {
  return Object.hasOwn(NAMES, name);
}
