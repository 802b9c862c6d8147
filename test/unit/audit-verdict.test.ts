import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { auditVerdict } from '../../scripts/audit-verdict.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/npm-audit/${name}`, import.meta.url), 'utf8');

describe('npm audit verdict (npm run audit:prod)', () => {
  it('fails on high and critical advisories, naming each package', () => {
    const v = auditVerdict(fixture('report-v2-findings.json'));
    expect(v).toMatchObject({
      kind: 'findings',
      packages: ['dockerode (high, 4.0.0 - 4.0.6)', 'tar-fs (high, 2.0.0 - 2.1.2)'],
    });
  });

  it('passes when only low or moderate advisories remain', () => {
    expect(auditVerdict(fixture('report-v2-low-only.json'))).toMatchObject({
      kind: 'clean',
      counts: { low: 1, high: 0 },
    });
  });

  it('reports a registry that refuses the advisory endpoint as unavailable, never as clean', () => {
    const v = auditVerdict(fixture('registry-405.json'));
    expect(v.kind).toBe('unavailable');
    expect(v.kind === 'unavailable' && v.reason).toContain('405 Method Not Allowed');
  });

  it('reports output that is not JSON as unavailable', () => {
    expect(auditVerdict('npm ERR! network timeout').kind).toBe('unavailable');
  });
});
