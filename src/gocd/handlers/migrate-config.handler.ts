import type { MigrateConfigMessage } from '../messages.js';

/**
 * migrate-config: echo the profiles back unchanged. GoCD replaces this plugin's profiles with the reply, so an
 * empty reply would wipe them. Plugin settings are dropped (v5 has none).
 */
export function migrateConfig(body: MigrateConfigMessage | undefined): Required<
  Omit<MigrateConfigMessage, 'plugin_settings'>
> & {
  plugin_settings: Record<string, never>;
} {
  return {
    plugin_settings: {},
    cluster_profiles: body?.cluster_profiles ?? [],
    elastic_agent_profiles: body?.elastic_agent_profiles ?? [],
  };
}
