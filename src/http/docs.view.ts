import { escapeHtml as e } from '../html.js';
import type { OpenApiSpec } from './openapi.js';

type Json = Record<string, unknown>;

function schemaName(schema: unknown): string {
  if (!schema || typeof schema !== 'object') return '';
  const s = schema as Json;
  if (typeof s.$ref === 'string') return s.$ref.split('/').pop() ?? '';
  if (typeof s.type === 'string') return s.type;
  return Object.keys(s).length === 0 ? 'any' : 'object';
}

/** A self-contained HTML API reference (inline CSS, no external assets) rendered from openapi.yaml. */
export function renderApiDocs(spec: OpenApiSpec): string {
  const doc = spec.doc;
  const info = (doc.info ?? {}) as Json;
  const ops: string[] = [];
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Json)) {
    for (const [method, raw] of Object.entries(item as Json)) {
      const op = raw as Json;
      const params = ((op.parameters ?? []) as Json[])
        .map(
          (p) =>
            `<li><code>${e(p.name)}</code> (${e(p.in)}${p.required ? ', required' : ''}) ${e(schemaName(p.schema))}</li>`,
        )
        .join('');
      const body = ((op.requestBody as Json | undefined)?.content ?? {}) as Json;
      const bodies = Object.entries(body).map(
        ([type, c]) => `<code>${e(type)}</code> ${e(schemaName((c as Json).schema))}`,
      );
      const responses = Object.entries((op.responses ?? {}) as Json)
        .map(([code, r]) => `<li><b>${e(code)}</b> ${e((r as Json).description ?? schemaName(r))}</li>`)
        .join('');
      const security = op.security ? '<p class="auth">Requires a bearer token.</p>' : '';
      ops.push(
        `<section id="${e(op.operationId ?? `${method}-${path}`)}"><h2><span class="m ${e(method)}">${e(method.toUpperCase())}</span> <code>${e(path)}</code></h2>` +
          `<p>${e(op.summary ?? '')}</p>${op.description ? `<pre>${e(op.description)}</pre>` : ''}${security}` +
          `${params ? `<h3>Parameters</h3><ul>${params}</ul>` : ''}${bodies.length ? `<h3>Body</h3><p>${bodies.join(', ')}</p>` : ''}` +
          `<h3>Responses</h3><ul>${responses}</ul></section>`,
      );
    }
  }
  const gocd = Object.entries((doc['x-gocd-requests'] ?? {}) as Record<string, string>)
    .map(([name, schema]) => `<tr><td><code>${e(name)}</code></td><td>${e(schema)}</td></tr>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${e(info.title)} API</title><style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
section{border-top:1px solid #ddd;padding:.5rem 0}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem}
.m{display:inline-block;min-width:3.5rem;text-align:center;color:#fff;border-radius:3px;padding:0 .3rem;font-size:.9rem}
.get{background:#2f7d32}.post{background:#1565c0}.auth{color:#8a4b00}table{border-collapse:collapse}td{border:1px solid #ddd;padding:2px 6px}
</style></head><body><h1>${e(info.title)} <small>${e(info.version)}</small></h1><pre>${e(info.description ?? '')}</pre>
${ops.join('\n')}<section><h2>GoCD request names</h2><table><tr><th>request</th><th>body schema</th></tr>${gocd}</table></section>
<p><a href="/openapi.yaml">openapi.yaml</a></p></body></html>`;
}
