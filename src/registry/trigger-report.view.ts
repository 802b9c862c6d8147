import { escapeHtml as e } from '../html.js';
import type { TriggerRecord } from './trigger-service.js';

/** HTML section of recent registry-triggered schedules (newest first), for the plugin status report and /status. */
export function renderTriggerSection(records: readonly TriggerRecord[], limit = 30): string {
  const rows = [...records]
    .reverse()
    .slice(0, limit)
    .map(
      (r) =>
        `<tr><td>${e(r.at)}</td><td>${e(r.registry)}</td><td><code>${e(`${r.image}:${r.tag}`)}</code>${r.digest ? `<br><span class="muted">${e(r.digest.slice(0, 19))}…</span>` : ''}</td><td>${e(r.pipeline)}</td><td class="${r.outcome === 'failed' ? 'err' : ''}">${e(r.outcome)}${r.source === 'rerun' ? ' (re-run)' : ''}</td><td>${e(r.message ?? '')}${r.outcome === 'failed' ? `<br><span class="muted">once fixed, re-run: <code>${e(rerunCommand(r))}</code></span>` : ''}</td></tr>`,
    );
  const body = rows.length
    ? `<table><tr><th>when</th><th>registry</th><th>image</th><th>pipeline</th><th>outcome</th><th>detail</th></tr>${rows.join('')}</table>`
    : '<p class="muted">no registry pushes triggered a pipeline yet</p>';
  return `<h3>Registry triggers</h3>\n${body}`;
}

/** The CLI command that re-runs a failed trigger (`POST /triggers/rerun` with the same values). */
export function rerunCommand(r: Pick<TriggerRecord, 'registry' | 'image' | 'tag' | 'digest' | 'pipeline'>): string {
  return `gocd-agent-scaler rerun ${r.registry} ${r.image}:${r.tag}${r.digest ? `@${r.digest}` : ''} ${r.pipeline}`;
}
