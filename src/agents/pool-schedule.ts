import { Cron } from 'croner';

/**
 * `warm_pool_schedule`: when a warm pool is kept, as a cron expression (five fields, minute hour day-of-month month
 * day-of-week, evaluated in UTC; croner's syntax, e.g. `* 7-18 * * 1-5` for working hours on weekdays). Inside a
 * matching minute the pool has its size; outside, zero (its waiting agents are recycled).
 */
export function scheduleProblem(expression: string): string | undefined {
  try {
    new Cron(expression, { paused: true, timezone: 'UTC' });
    return undefined;
  } catch (err) {
    return `warm_pool_schedule is not a cron expression: ${(err as Error).message}`;
  }
}

/** True when `at` falls in a minute the schedule matches (an absent schedule always does). */
export function inSchedule(expression: string | undefined, at: Date): boolean {
  if (expression === undefined) return true;
  try {
    return new Cron(expression, { paused: true, timezone: 'UTC' }).match(at);
  } catch {
    // A profile is validated before it is used; an expression that does not parse keeps no pool.
    return false;
  }
}
