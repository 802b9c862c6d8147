import { escapeHtml as e } from '../html.js';
import type { TriggerRecord } from './trigger-service.js';

/** HTML section of recent registry-triggered schedules (newest first), for the plugin status report and /status. */
export function renderTriggerSection(records: readonly TriggerRecord[], limit = 30): string {
  const rows = [...records]
    .reverse()
    .slice(0, limit)
    .map(
      (r) =>
        `<tr><td>${e(r.at)}</td><td>${e(r.registry)}</td><td><code>${e(`${r.image}:${r.tag}`)}</code>${r.digest ? `<br><span class="muted">${e(r.digest.slice(0, 19))}…</span>` : ''}</td><td>${e(r.pipeline)}</td><td class="${r.outcome === 'failed' ? 'err' : ''}">${e(r.outcome)}</td><td>${e(r.message ?? '')}</td></tr>`,
    );
  const body = rows.length
    ? `<table><tr><th>when</th><th>registry</th><th>image</th><th>pipeline</th><th>outcome</th><th>detail</th></tr>${rows.join('')}</table>`
    : '<p class="muted">no registry pushes triggered a pipeline yet</p>';
  return `<h3>Registry triggers</h3>\n${body}`;
}
