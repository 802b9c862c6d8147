import type { HealthMessage } from '../agents/notices.js';
import type { TriggerRecord } from './trigger-service.js';

/**
 * The server-health message about registry triggers, for GoCD's panel: when the latest trigger that reached an end
 * failed (GoCD's API unreachable, refusing the token, not knowing the pipeline, or refusing its variables), an
 * administrator must fix something; a later scheduled trigger clears it. Undefined when there is nothing to say.
 */
export function triggerHealth(records: readonly TriggerRecord[]): HealthMessage | undefined {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    if (r.outcome === 'scheduled') return undefined;
    if (r.outcome !== 'failed') continue;
    const why = r.missingVariable
      ? `the pipeline does not declare the environment variable ${r.missingVariable}`
      : r.status === undefined
        ? `the GoCD API did not answer (${r.message ?? 'no answer'}); check gocd.apiUrl`
        : r.status === 401 || r.status === 403
          ? `the GoCD API answered ${r.status}; check gocd.apiToken and its permission to operate the pipeline`
          : `the GoCD API answered ${r.status}${r.message ? `: ${r.message}` : ''}`;
    return {
      type: 'error',
      message: `gocd-agent-scaler: the push of ${r.image}:${r.tag} (registry ${r.registry}) did not schedule pipeline ${r.pipeline}: ${why}.`,
    };
  }
  return undefined;
}
