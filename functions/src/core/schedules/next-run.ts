/**
 * When a schedule runs next, in the user's time zone: `nightly` at 02:00, `weekly` on Sunday at
 * 02:00, `custom` every N hours (from the last run) or on a cron line.
 */
import { lifeboatError } from '../errors';
import type { Schedule } from '../model';
import { cronMatchesDay, parseCron } from './cron';
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
      if (schedule.cron) {
        const spec = parseCron(schedule.cron);
        for (let offset = 0; offset <= 400; offset++) {
          const d = addDays(today.year, today.month, today.day, offset);
          const weekday = new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay();
          if (!cronMatchesDay(spec, d.month, d.day, weekday)) continue;
          for (const hour of spec.hours) {
            for (const minute of spec.minutes) {
              const t = zonedTimeToUtc(d.year, d.month, d.day, hour, minute, timeZone);
              if (t > after) return t;
            }
          }
        }
        throw lifeboatError('invalid-argument', `cron line "${schedule.cron}" never runs`);
      }
      break;
    }
  }
  throw lifeboatError('invalid-argument', `schedule ${schedule.kind} has no timing`);
}
