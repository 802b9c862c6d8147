/**
 * The config keys whose values are secrets, wherever they appear (`gocd.forwarderToken`, `registries[].secret` …):
 * written once here. The config's masking (check-config, doctor, logs) and the logger's redaction paths derive from
 * it, and a test holds the config schema to it (every string key of the schema named like this is one of them).
 */
export const SECRET_CONFIG_KEYS = [
  'forwarderToken',
  'secondaryForwarderToken',
  'apiToken',
  'secret',
  'secondarySecret',
  'password',
  'token',
] as const;
