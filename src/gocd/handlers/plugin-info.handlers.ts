import type { ProfileCatalog } from '../../agents/profile-catalog.js';
import { AppError } from '../../errors.js';
import { ICON } from '../icon.js';
import { metadataOf, profileView } from '../profile-views.js';

/**
 * Why the plugin-settings requests are declined. Elastic-agent v5 keeps every setting in cluster profiles (GoCD even
 * deletes a v5 plugin's stored settings after migrate-config: ElasticAgentInformationMigratorImpl). GoCD's
 * PluginSettingsMetadataLoader catches a non-200 answer and logs it as "Maybe the plugin does not implement plugin
 * settings and view? … This error may be safe to ignore"; an answer of `{}` (or any empty map) fails its parser as
 * "Empty response body" instead (PluginSettingsJsonMessageHandlerBase), and throwing would add an ERROR line from
 * DefaultPluginManager. So the decline is a 404 naming the reason.
 */
export const NO_PLUGIN_SETTINGS =
  'gocd-agent-scaler has no plugin settings: elastic-agent extension v5 keeps its settings in cluster profiles';

const noPluginSettings = (): never => {
  throw new AppError('NOT_SUPPORTED', NO_PLUGIN_SETTINGS);
};

/**
 * The requests GoCD sends while it loads the plugin: all constant, no body. The forwarder ships these answers inside
 * its jar (generated from this module by scripts/plugin-loader-answers.ts), so loading never waits on the network.
 * The profiles' metadata and views come from the catalog's one table per profile kind.
 */
export const pluginInfoHandlers = (profiles: ProfileCatalog) => ({
  'cd.go.elastic-agent.get-icon': () => ICON,
  'cd.go.elastic-agent.get-capabilities': () => ({
    supports_plugin_status_report: true,
    supports_cluster_status_report: true,
    supports_agent_status_report: true,
  }),
  'cd.go.elastic-agent.get-elastic-agent-profile-metadata': () => metadataOf(profiles.elasticProperties),
  'cd.go.elastic-agent.get-elastic-agent-profile-view': () => ({
    template: profileView('gocd-agent-scaler elastic agent profile', profiles.elasticProperties),
  }),
  'cd.go.elastic-agent.get-cluster-profile-metadata': () => metadataOf(profiles.clusterProperties),
  'cd.go.elastic-agent.get-cluster-profile-view': () => ({
    template: profileView('gocd-agent-scaler cluster profile', profiles.clusterProperties),
  }),
  'go.plugin-settings.get-configuration': noPluginSettings,
  'go.plugin-settings.get-view': noPluginSettings,
});
