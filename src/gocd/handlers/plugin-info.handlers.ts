import { CLUSTER_PROFILE_PROPERTIES, ELASTIC_PROFILE_PROPERTIES } from '../../agents/profile-properties.js';
import { ICON } from '../icon.js';
import { metadataOf, profileView } from '../profile-views.js';

/** The requests GoCD sends once at plugin load; all constant, no body. */
export const pluginInfoHandlers = {
  'cd.go.elastic-agent.get-icon': () => ICON,
  'cd.go.elastic-agent.get-capabilities': () => ({
    supports_plugin_status_report: true,
    supports_cluster_status_report: true,
    supports_agent_status_report: true,
  }),
  'cd.go.elastic-agent.get-elastic-agent-profile-metadata': () => metadataOf(ELASTIC_PROFILE_PROPERTIES),
  'cd.go.elastic-agent.get-elastic-agent-profile-view': () => ({
    template: profileView('gocd-agent-scaler elastic agent profile', ELASTIC_PROFILE_PROPERTIES),
  }),
  'cd.go.elastic-agent.get-cluster-profile-metadata': () => metadataOf(CLUSTER_PROFILE_PROPERTIES),
  'cd.go.elastic-agent.get-cluster-profile-view': () => ({
    template: profileView('gocd-agent-scaler cluster profile', CLUSTER_PROFILE_PROPERTIES),
  }),
  // v5 plugins have no plugin settings; GoCD still asks every plugin at load (the ECS plugin answers {} too).
  'go.plugin-settings.get-configuration': () => ({}),
} as const;
