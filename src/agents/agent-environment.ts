/** How the agent status report shows a value it does not show. */
export const MASKED_VALUE = '********';

/**
 * Variables whose values the agent status report may show: the scaler's own, which hold no secret. Every other value
 * is masked, whatever its name: profiles' `environment` lines often carry credentials under names no pattern can
 * recognise (`DB_PASS2`, `NPM_AUTH`, `SONAR_LOGIN` …), and the report is shown to everyone who can read it in GoCD.
 */
const SHOWN = new Set([
  'GO_EA_SERVER_URL',
  'GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID',
  'GO_EA_AUTO_REGISTER_ELASTIC_PLUGIN_ID',
  'GO_EA_AUTO_REGISTER_ENVIRONMENT',
  'DOCKER_HOST',
]);

/** The environment with every value masked except the scaler's own non-secret variables; names are kept. */
export function maskEnvironment(environment: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) out[name] = SHOWN.has(name) ? value : MASKED_VALUE;
  return out;
}
