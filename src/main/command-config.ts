import { ConfigError, type LoadedConfig, loadConfig } from '../config/config-loader.js';

/**
 * The config a CLI command runs with: loaded from `$SCALER_CONFIG` (or the defaults) in `env`; a config that does not
 * load is said on `err` in one line and answered undefined (the command exits 2), anything else is thrown.
 */
export async function loadCommandConfig(
  env: NodeJS.ProcessEnv,
  err: (s: string) => void,
): Promise<LoadedConfig | undefined> {
  try {
    return await loadConfig({ env });
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`${e.message}\n`);
      return undefined;
    }
    throw e;
  }
}
