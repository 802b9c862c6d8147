import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  type MutantStatus,
  mergeReports,
  moduleScores,
  renderMutationMarkdown,
} from '../../scripts/mutation-scores.js';

const mutants = (counts: Partial<Record<MutantStatus, number>>) =>
  Object.entries(counts).flatMap(([status, n]) =>
    Array.from({ length: n }, () => ({ status: status as MutantStatus })),
  );

describe('mutation scores per module', () => {
  it('counts killed and timed-out mutants over every valid one, leaving ignored and broken mutants out', () => {
    const [s] = moduleScores({
      files: {
        'src/agents/policy.ts': {
          mutants: mutants({ Killed: 15, Timeout: 2, Survived: 2, NoCoverage: 1, Ignored: 9, CompileError: 4 }),
        },
      },
    });
    expect(s).toMatchObject({ killed: 15, timeout: 2, survived: 2, noCoverage: 1, ignored: 9, score: 85 });
  });

  it('holds lifecycle planning, agent identity and subscriptions to 90%, every other module to 85%', () => {
    const scores = moduleScores({
      files: {
        'src/agents/reconcile-plan.ts': { mutants: mutants({ Killed: 89, Survived: 11 }) },
        'src/agents/agent-id.ts': { mutants: mutants({ Killed: 90, Survived: 10 }) },
        'src/registry/subscriptions.ts': { mutants: mutants({ Killed: 9, Survived: 1 }) },
        'src/registry/material-env.ts': { mutants: mutants({ Killed: 85, Survived: 15 }) },
        'src/http/auth.ts': { mutants: mutants({ Killed: 84, Survived: 16 }) },
      },
    });
    expect(scores.map((s) => [s.file, s.threshold, s.met])).toEqual([
      ['src/agents/agent-id.ts', 90, true],
      ['src/agents/reconcile-plan.ts', 90, false],
      ['src/http/auth.ts', 85, false],
      ['src/registry/material-env.ts', 85, true],
      ['src/registry/subscriptions.ts', 90, true],
    ]);
  });

  it('names a module by its path from src/, wherever the report was written', () => {
    const [s] = moduleScores({
      files: { '/work/x/.stryker-tmp/sandbox/src/agents/agent-id.ts': { mutants: mutants({ Killed: 1 }) } },
    });
    expect(s).toMatchObject({ file: 'src/agents/agent-id.ts', threshold: 90 });
  });

  it('scores a module with no valid mutant (only static ones) as 100%', () => {
    const [s] = moduleScores({
      files: { 'src/registry/parsers/registry-parsers.ts': { mutants: mutants({ Ignored: 3 }) } },
    });
    expect(s).toMatchObject({ score: 100, met: true, ignored: 3 });
  });

  it('writes one row per module, the overall score, the run time and the modules below threshold', () => {
    const scores = moduleScores({
      files: {
        'src/agents/agent-id.ts': { mutants: mutants({ Killed: 9, Survived: 1 }) },
        'src/http/auth.ts': { mutants: mutants({ Killed: 8, Survived: 2 }) },
      },
    });
    const md = renderMutationMarkdown(scores, {
      at: '2026-12-07T12:00:00Z',
      machine: 'm',
      seconds: 125,
      stryker: '9.9.9',
    });
    expect(md).toContain('| `src/agents/agent-id.ts` | 9 | 1 | 0 | 0 | 90.0% | 90% | yes |');
    expect(md).toContain('| `src/http/auth.ts` | 8 | 2 | 0 | 0 | 80.0% | 85% | **no** |');
    expect(md).toContain(
      'Run time 2 min 5 s. Overall 85.0% (17 of 20 valid mutants killed); 1 module(s) below threshold.',
    );
    expect(md).toContain('StrykerJS 9.9.9');
  });

  it('formats run times under a minute in seconds', () => {
    expect(formatDuration(42.4)).toBe('42 s');
    expect(formatDuration(3600)).toBe('60 min 0 s');
  });
});

describe('reports of runs made in parts', () => {
  it('are merged module by module, and the record says so', () => {
    const merged = mergeReports([
      { files: { 'src/agents/agent-id.ts': { mutants: mutants({ Killed: 1 }) } } },
      { files: { 'src/http/auth.ts': { mutants: mutants({ Survived: 1 }) } } },
    ]);
    expect(moduleScores(merged).map((s) => [s.file, s.score])).toEqual([
      ['src/agents/agent-id.ts', 100],
      ['src/http/auth.ts', 0],
    ]);
    const md = renderMutationMarkdown(moduleScores(merged), {
      at: 'T',
      machine: 'M',
      seconds: 60,
      stryker: '1',
      parts: 2,
    });
    expect(md).toContain('Run time 1 min 0 s (2 runs over parts of the modules, times added).');
  });
});
