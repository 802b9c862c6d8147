import { describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/support/soak-driver.js';
import { ECS_SETUPS, type EcsSetup } from '../support/ecs-setups.js';

// A short soak per ECS launch set-up (the bench runs 5 minutes: `npm run bench -- soak`): the real service in its own
// process, ECS backend over the strict loopback ECS endpoint (service model, linked-field rules, ECS's throttling
// buckets), registry triggers against a fake GoCD, mixed traffic at a steady rate with ECS throttling bursts, RunTask
// failures, GoCD 503/409 answers and registry redeliveries.
describe.each(ECS_SETUPS)('soak (short): $name', (setup: EcsSetup) => {
  it('loses no trigger, duplicates none, gives no job two tasks and leaks none, under faults', async () => {
    const lines: string[] = [];
    const report = await runSoak({
      durationMs: 8_000,
      drainMs: 45_000,
      shouldAssignRate: 20,
      sampleEveryMs: 1_000,
      setup,
      log: (line) => lines.push(line),
    });
    // The faults really happened, so the invariants below were tested under them.
    expect(report.faults.ecsThrottled).toBeGreaterThan(0);
    expect(report.faults.gocdErrorAnswers).toBeGreaterThan(0);
    expect(report.faults.redeliveries).toBeGreaterThan(0);
    expect(report.faults.repushes).toBeGreaterThan(0);
    expect(report.jobs.created).toBeGreaterThan(10);
    expect(report.triggers.expected).toBeGreaterThan(10);

    expect(report.violations, lines.join('\n')).toEqual([]);
    expect(report.status5xx).toBe(0);
    expect(report.triggers.lost).toBe(0);
    expect(report.triggers.duplicated).toBe(0);
    expect(report.triggers.scheduled).toBe(report.triggers.expected);
    expect(report.tasks.maxPerJob).toBe(1);
    expect(report.tasks.leaked).toBe(0);
    expect(report.jobs.unfinished).toBe(0);
    expect(report.shouldAssign.wrong).toBe(0);
    expect(report.payloadHostCalls).toBe(0);
    expect(report.service.secretLines).toBe(0);
    expect(report.rss.samples).toBeGreaterThan(5);
  }, 120_000);
});
