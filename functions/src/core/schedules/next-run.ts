/**
 * When a schedule runs next, in the user's time zone: `nightly` at 02:00, `weekly` on Sunday at
 * 02:00, `custom` every N hours (from the last run) or on a cron line.
 */
import { lifeboatError } from '../errors';
import type { Schedule } from '../model';
import { parseCron, type CronSpec } from './cron';
import { addDays, zonedParts, zonedTimeToUtc } from './zoned-time';

export const SCHEDULE_HOUR = 2;

type Timing = Pick<Schedule, 'kind' | 'timeZone' | 'everyHours' | 'cron' | 'lastRunAt' | 'createdAt'>;

/** The first run strictly after `after`. */
export function nextRunAt(schedule: Timing, after: number): number {
  const { timeZone } = schedule;
  const today = zonedParts(after, timeZone);
  const at = (offset: number, hour: number, minute: number) => {
    const d = addDays(today.year, today.month, today.day, offset);
    return zonedTimeToUtc(d.year, d.month, d.day, hour, minute, timeZone);
  };
  switch (schedule.kind) {
    case 'nightly': {
      for (let offset = 0; offset <= 2; offset++) {
        const t = at(offset, SCHEDULE_HOUR, 0);
        if (t > after) return t;
      }
      break;
    }
    case 'weekly': {
      const toSunday = (7 - today.weekday) % 7;
      for (const offset of [toSunday, toSunday + 7]) {
        const t = at(offset, SCHEDULE_HOUR, 0);
        if (t > after) return t;
      }
      break;
    }
    case 'custom': {
      if (schedule.everyHours) {
        const period = schedule.everyHours * 3_600_000;
        const base = schedule.lastRunAt ?? schedule.createdAt;
        // At most one missed run is caught up: the next slot after now, not every slot since.
        return base + Math.max(1, Math.floor((after - base) / period) + 1) * period;
      }
      if (schedule.cron) return nextCronRun(parseCron(schedule.cron), after, timeZone);
      break;
    }
  }
  throw lifeboatError('invalid-argument', `schedule ${schedule.kind} has no timing`);
}

/**
 * The first run of a cron line strictly after `after`, in the schedule's time zone. croner gives
 * the matching wall-clock minutes in order; each becomes an instant by the project's rules
 * (zoned-time.ts: a minute that does not exist runs when the clocks jump, one that happens twice
 * runs the first time), and the first instant after `after` is the run. A minute at or before
 * the wall-clock time of `after` maps to an instant at or before it, so the search starts just
 * past that; it walks further only through an hour the clocks repeat (those minutes already ran
 * the first time) or minutes a spring-forward jump folded onto one instant, so at most a few
 * hundred steps.
 */
export function nextCronRun(spec: CronSpec, after: number, timeZone: string): number {
  const now = zonedParts(after, timeZone);
  let wall = Date.UTC(now.year, now.month - 1, now.day, now.hour, now.minute);
  for (let step = 0; step < 10_000; step++) {
    const next = spec.nextWallTime(wall);
    if (next === null) break;
    const d = new Date(next);
    const t = zonedTimeToUtc(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), timeZone);
    if (t > after) return t;
    wall = next;
  }
  throw lifeboatError('invalid-argument', `cron line "${spec.line}" never runs`);
}
