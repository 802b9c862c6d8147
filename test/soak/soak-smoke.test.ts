import { appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runSoak, soakBoundMs } from '../../bench/support/soak-driver.js';
import { ECS_SETUPS, type EcsSetup } from '../support/ecs-setups.js';

// A short soak per ECS launch set-up (the bench runs 5 minutes: `npm run bench -- soak`): the real service in its own
// process, ECS backend over the strict loopback ECS endpoint (service model, linked-field rules, ECS's throttling
// buckets), registry triggers against a fake GoCD, mixed traffic at a steady rate with ECS throttling bursts, RunTask
// failures, GoCD 503/409 answers and registry redeliveries.
// The drain waits for outcomes (jobs finished, every claimed trigger ended), so the timeout is the driver's bound on
// those waits (the service's GoCD retry window), not a guess at this machine's speed.
const OPTIONS = { durationMs: 8_000, drainMs: 45_000 };

describe.each(ECS_SETUPS)('soak (short): $name', (setup: EcsSetup) => {
  it(
    'loses no trigger, duplicates none, gives no job two tasks and leaks none, under faults',
    async () => {
      const lines: string[] = [];
      const report = await runSoak({
        ...OPTIONS,
        shouldAssignRate: 20,
        sampleEveryMs: 1_000,
        setup,
        log: (line) => lines.push(line),
      });
      // SOAK_LOG=<file>: every set-up's progress lines (drain end, slowest trigger) appended there, pass or fail.
      if (process.env.SOAK_LOG) appendFileSync(process.env.SOAK_LOG, `${setup.name}\n${lines.join('\n')}\n`);
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
    },
    soakBoundMs(OPTIONS),
  );
});
