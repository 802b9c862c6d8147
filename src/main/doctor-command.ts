import { pino } from 'pino';
import { GocdAdminClient } from '../gocd-api/gocd-admin-client.js';
import { loadCommandConfig } from './command-config.js';
import { createBackendProvider, dockerStatusProbe, profileCatalog } from './composition.js';
import { formatFindings, runDoctor } from './doctor.js';

/** `gocd-agent-scaler doctor [file]`: exit 0 when nothing failed, 1 when something did, 2 for a bad config. */
export async function doctor(
  file: string | undefined,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  const loaded = await loadCommandConfig(file ? { ...process.env, SCALER_CONFIG: file } : process.env, err);
  if (!loaded) return 2;
  const { config } = loaded;
  const logger = pino({ level: 'silent' });
  const profiles = profileCatalog();
  const findings = await runDoctor({
    config,
    profiles,
    gocd: config.gocd.apiUrl ? new GocdAdminClient(config.gocd.apiUrl, config.gocd.apiToken) : undefined,
    backends: createBackendProvider(logger, profiles, true, undefined, config.ecs),
    dockerStatus: dockerStatusProbe(),
  });
  out(`gocd-agent-scaler doctor (${loaded.source})\n${formatFindings(findings)}`);
  const failed = findings.filter((f) => f.status === 'fail').length;
  if (failed) err(`${failed} problem${failed === 1 ? '' : 's'} found\n`);
  return failed ? 1 : 0;
}
