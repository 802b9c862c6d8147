import type { GocdRequestName } from './request-names.js';

/**
 * The requests GoCD sends to an elastic-agent plugin while loading it, after migrate-config, in GoCD's order
 * (gocd/gocd: ElasticAgentPluginInfoBuilder.pluginInfoFor asks the elastic profile metadata and view, the cluster
 * profile metadata and view, the icon, then the capabilities; PluginSettingsMetadataLoader then asks the plugin-settings
 * configuration, and the view only when the configuration parsed). A non-200 answer to any of the first six makes
 * PluginLoader mark the plugin invalid and unload it until GoCD restarts, so the forwarder answers all of these from
 * a copy built into its jar (scripts/plugin-loader-answers.ts), never from the network.
 */
export const LOADER_REQUEST_NAMES = [
  'cd.go.elastic-agent.get-elastic-agent-profile-metadata',
  'cd.go.elastic-agent.get-elastic-agent-profile-view',
  'cd.go.elastic-agent.get-cluster-profile-metadata',
  'cd.go.elastic-agent.get-cluster-profile-view',
  'cd.go.elastic-agent.get-icon',
  'cd.go.elastic-agent.get-capabilities',
  'go.plugin-settings.get-configuration',
  'go.plugin-settings.get-view',
] as const satisfies readonly GocdRequestName[];

/** The loader requests whose non-200 answer unloads the plugin (the elastic-agent ones). */
export const UNLOAD_ON_FAILURE: ReadonlySet<string> = new Set(
  LOADER_REQUEST_NAMES.filter((n) => n.startsWith('cd.go.elastic-agent.')),
);
