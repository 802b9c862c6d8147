/** What `npm audit --omit=dev --json` said, reduced to a verdict (pure, so tests can feed it real reports). */
export type AuditVerdict =
  | { kind: 'clean'; counts: Record<string, number> }
  | { kind: 'findings'; counts: Record<string, number>; packages: string[] }
  | { kind: 'unavailable'; reason: string };

interface AuditReport {
  vulnerabilities?: Record<string, { name?: string; severity?: string; range?: string }>;
  metadata?: { vulnerabilities?: Record<string, number> };
  statusCode?: number;
  message?: string;
  error?: { summary?: string; detail?: string } | string;
}

const BLOCKING = new Set(['high', 'critical']);

export function auditVerdict(jsonText: string): AuditVerdict {
  let report: AuditReport;
  try {
    report = JSON.parse(jsonText) as AuditReport;
  } catch {
    return { kind: 'unavailable', reason: `npm audit printed no JSON: ${jsonText.slice(0, 200)}` };
  }
  const counts = report.metadata?.vulnerabilities;
  if (!counts) {
    const detail = typeof report.error === 'string' ? report.error : report.error?.summary;
    return { kind: 'unavailable', reason: report.message ?? (detail || 'npm audit returned no report') };
  }
  const packages = Object.values(report.vulnerabilities ?? {})
    .filter((v) => BLOCKING.has(v.severity ?? ''))
    .map((v) => `${v.name} (${v.severity}, ${v.range ?? 'range unknown'})`)
    .sort();
  return packages.length > 0 ? { kind: 'findings', counts, packages } : { kind: 'clean', counts };
}
