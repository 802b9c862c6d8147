/**
 * Per-module mutation scores from StrykerJS's JSON report (mutation-testing-report-schema: `files[path].mutants[]`
 * with a `status`), checked against each module's threshold. Pure, so the rule is tested (test/unit).
 */

/** The statuses of the mutation-testing-elements report schema. */
export type MutantStatus =
  | 'Killed'
  | 'Survived'
  | 'NoCoverage'
  | 'Timeout'
  | 'CompileError'
  | 'RuntimeError'
  | 'Ignored'
  | 'Pending';

export interface MutationReport {
  files: Record<string, { mutants: { status: MutantStatus }[] }>;
}

/** The modules whose threshold is above the default: the rules that decide launches, reaping and triggers. */
export const STRICT_MODULES: Readonly<Record<string, number>> = {
  'src/agents/reconcile-plan.ts': 90,
  'src/agents/agent-id.ts': 90,
  'src/registry/subscriptions.ts': 90,
};

/** Every other mutated module. */
export const DEFAULT_THRESHOLD = 85;

export interface ModuleScore {
  file: string;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  /** Left out of the score: static mutants (see stryker.config.mjs) and those marked equivalent in the source. */
  ignored: number;
  /** Killed (timeouts count as killed, as Stryker counts them) over all valid mutants; 100 when there are none. */
  score: number;
  threshold: number;
  met: boolean;
}

/** The reports of runs made in parts (disjoint sets of modules) as one; a module in two keeps the later one. */
export function mergeReports(reports: readonly MutationReport[]): MutationReport {
  return { files: Object.assign({}, ...reports.map((r) => r.files)) };
}

export function moduleScores(report: MutationReport): ModuleScore[] {
  return Object.entries(report.files)
    .map(([path, { mutants }]) => {
      const file = path.replace(/\\/g, '/').replace(/^.*?(?=src\/)/, '');
      const count = (status: MutantStatus) => mutants.filter((m) => m.status === status).length;
      const killed = count('Killed');
      const timeout = count('Timeout');
      const survived = count('Survived');
      const noCoverage = count('NoCoverage');
      const valid = killed + timeout + survived + noCoverage;
      const score = valid === 0 ? 100 : (100 * (killed + timeout)) / valid;
      const threshold = STRICT_MODULES[file] ?? DEFAULT_THRESHOLD;
      return {
        file,
        killed,
        timeout,
        survived,
        noCoverage,
        ignored: count('Ignored'),
        score,
        threshold,
        met: score >= threshold,
      };
    })
    .sort((a, b) => a.file.localeCompare(b.file));
}

/** The scores as bench/results/mutation.md keeps them. */
export function renderMutationMarkdown(
  scores: readonly ModuleScore[],
  run: { at: string; machine: string; seconds: number; stryker: string; parts?: number },
): string {
  const total = scores.reduce(
    (t, s) => ({
      caught: t.caught + s.killed + s.timeout,
      valid: t.valid + s.killed + s.timeout + s.survived + s.noCoverage,
    }),
    { caught: 0, valid: 0 },
  );
  const missed = scores.filter((s) => !s.met);
  const rows = scores.map(
    (s) =>
      `| \`${s.file}\` | ${s.killed + s.timeout} | ${s.survived} | ${s.noCoverage} | ${s.ignored} | ${s.score.toFixed(1)}% | ${s.threshold}% | ${s.met ? 'yes' : '**no**'} |`,
  );
  return [
    '# Mutation scores (`npm run mutation`)',
    '',
    `StrykerJS ${run.stryker}, vitest runner (unit and HTTP tiers), per-test coverage; ${run.at} on ${run.machine}.`,
    `Run time ${formatDuration(run.seconds)}${run.parts ? ` (${run.parts} runs over parts of the modules, times added)` : ''}. Overall ${((100 * total.caught) / Math.max(total.valid, 1)).toFixed(1)}% ` +
      `(${total.caught} of ${total.valid} valid mutants killed); ${missed.length === 0 ? 'every module meets its threshold' : `${missed.length} module(s) below threshold`}.`,
    '',
    '| module | killed | survived | no coverage | ignored | score | threshold | met |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    'Ignored: mutants that only run while a module loads (static: property rows, payload shapes, AWS tables) and',
    'equivalent mutants marked `// Stryker disable … : <reason>` in the source.',
    '',
  ].join('\n');
}

export function formatDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return m > 0 ? `${m} min ${s} s` : `${s} s`;
}
