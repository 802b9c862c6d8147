import { escapeHtml as e } from '../html.js';
import { type OpenApiSpec, resolveRefs } from './openapi.js';

type Json = Record<string, unknown>;

function schemaName(schema: unknown): string {
  if (!schema || typeof schema !== 'object') return '';
  const s = schema as Json;
  if (typeof s.$ref === 'string') return s.$ref.split('/').pop() ?? '';
  if (typeof s.type === 'string') return s.type;
  return Object.keys(s).length === 0 ? 'any JSON' : 'object';
}

/** The object a `$ref` points to (one level: nested references are left for schemaBlock to name). */
function deref(node: unknown, doc: Json): Json {
  let n = node as Json;
  for (let i = 0; i < 8 && typeof n?.$ref === 'string'; i++) {
    n = n.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((acc, key) => (acc as Json | undefined)?.[key], doc) as Json;
  }
  return n ?? {};
}

const pretty = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));

/** A schema by name, with the whole schema (every `$ref` inlined) one click away. */
function schemaBlock(schema: unknown, doc: Json): string {
  const name = schemaName(schema);
  const resolved = resolveRefs(schema, doc);
  if (!resolved || typeof resolved !== 'object' || Object.keys(resolved).length === 0) return `<i>${e(name)}</i>`;
  return `<details><summary>schema <code>${e(name)}</code></summary><pre>${e(pretty(resolved))}</pre></details>`;
}

/** A media type's examples (`example`, or `examples` by name with their summaries). */
function examplesOf(media: Json): string {
  const out: string[] = [];
  if (media.example !== undefined) out.push(`<pre class="ex">${e(pretty(media.example))}</pre>`);
  for (const [name, raw] of Object.entries((media.examples ?? {}) as Json)) {
    const ex = raw as Json;
    out.push(`<p class="exn">Example ${e(ex.summary ?? name)}</p><pre class="ex">${e(pretty(ex.value))}</pre>`);
  }
  return out.join('');
}

/** Each media type of a body or response: its type, schema and examples. */
function contentBlock(content: unknown, doc: Json): string {
  return Object.entries((content ?? {}) as Json)
    .map(
      ([type, media]) =>
        `<div><code>${e(type)}</code> ${schemaBlock((media as Json).schema, doc)}${examplesOf(media as Json)}</div>`,
    )
    .join('');
}

/** How one security scheme is presented, in words (`Authorization: Bearer`, HTTP Basic, a named header). */
function schemeText(name: string, doc: Json): string {
  const scheme = (((doc.components as Json | undefined)?.securitySchemes as Json | undefined)?.[name] ?? {}) as Json;
  const how =
    scheme.type === 'http' && scheme.scheme === 'bearer'
      ? '<code>Authorization: Bearer &lt;token&gt;</code>'
      : scheme.type === 'http' && scheme.scheme === 'basic'
        ? 'HTTP Basic (<code>Authorization: Basic</code>; a browser asks for it)'
        : scheme.type === 'apiKey'
          ? `header <code>${e(scheme.name)}</code>`
          : e(String(scheme.type ?? name));
  return `${how}: ${e(scheme.description ?? name)}`;
}

/**
 * What an operation needs, from its `security` (else the document's): `[]` is none, `{}` among the alternatives
 * makes it optional, and a route whose credential OpenAPI cannot express (a path token) says so in `x-auth`.
 */
function authBlock(op: Json, doc: Json): string {
  const requirements = (op.security ?? doc.security) as Json[] | undefined;
  if (typeof op['x-auth'] === 'string') return `<p class="auth">Authentication: ${e(op['x-auth'])}</p>`;
  if (requirements === undefined || requirements.length === 0) return '<p class="auth">No authentication.</p>';
  const optional = requirements.some((r) => Object.keys(r).length === 0);
  const items = requirements
    .filter((r) => Object.keys(r).length > 0)
    .map(
      (r) =>
        `<li>${Object.keys(r)
          .map((n) => schemeText(n, doc))
          .join(' and ')}</li>`,
    )
    .join('');
  const lead = optional ? 'Optional authentication (when configured), one of:' : 'Authentication, one of:';
  return `<div class="auth">${lead}<ul>${items}</ul></div>`;
}

/** One operation: summary, description, auth, parameters, body and responses, each with schemas and examples. */
function operationBlock(path: string, method: string, op: Json, doc: Json): string {
  const params = ((op.parameters ?? []) as Json[])
    .map(
      (p) =>
        `<li><code>${e(p.name)}</code> (${e(p.in)}${p.required ? ', required' : ''}) ${e(schemaName(p.schema))}${p.description ? ` — ${e(p.description)}` : ''}</li>`,
    )
    .join('');
  const body = (op.requestBody as Json | undefined)?.content;
  const responses = Object.entries((op.responses ?? {}) as Json)
    .map(([code, raw]) => {
      const r = deref(raw, doc);
      return `<li><b>${e(code)}</b> ${e(r.description ?? '')}${contentBlock(r.content, doc)}</li>`;
    })
    .join('');
  return (
    `<section id="${e(op.operationId ?? `${method}-${path}`)}"><h2><span class="m ${e(method)}">${e(method.toUpperCase())}</span> <code>${e(path)}</code></h2>` +
    `<p>${e(op.summary ?? '')}</p>${op.description ? `<pre>${e(op.description)}</pre>` : ''}${authBlock(op, doc)}` +
    `${params ? `<h3>Parameters</h3><ul>${params}</ul>` : ''}${body ? `<h3>Request body</h3>${contentBlock(body, doc)}` : ''}` +
    `<h3>Responses</h3><ul>${responses}</ul></section>`
  );
}

/** A self-contained HTML API reference (inline CSS, no script, no external assets) rendered from openapi.yaml. */
export function renderApiDocs(spec: OpenApiSpec): string {
  const doc = spec.doc;
  const info = (doc.info ?? {}) as Json;
  const ops: string[] = [];
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Json)) {
    for (const [method, op] of Object.entries(item as Json)) ops.push(operationBlock(path, method, op as Json, doc));
  }
  const gocd = Object.entries((doc['x-gocd-requests'] ?? {}) as Record<string, string>)
    .map(
      ([name, schema]) =>
        `<tr><td><code>${e(name)}</code></td><td>${schemaBlock({ $ref: `#/components/schemas/${schema}` }, doc)}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${e(info.title)} API</title><style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
section{border-top:1px solid #ddd;padding:.5rem 0}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem}
pre.ex{background:#eef5ee}.exn{margin:.3rem 0 0;font-size:.9rem;color:#555}details{margin:.2rem 0}
.m{display:inline-block;min-width:3.5rem;text-align:center;color:#fff;border-radius:3px;padding:0 .3rem;font-size:.9rem}
.get{background:#2f7d32}.post{background:#1565c0}.auth{color:#8a4b00}table{border-collapse:collapse}td{border:1px solid #ddd;padding:2px 6px;vertical-align:top}
</style></head><body><h1>${e(info.title)} <small>${e(info.version)}</small></h1><pre>${e(info.description ?? '')}</pre>
${ops.join('\n')}<section><h2>GoCD request names</h2><p>The body of <code>POST /gocd/requests/{requestName}</code>, by request name.</p><table><tr><th>request</th><th>body schema</th></tr>${gocd}</table></section>
<p><a href="/openapi.yaml">openapi.yaml</a></p></body></html>`;
}
