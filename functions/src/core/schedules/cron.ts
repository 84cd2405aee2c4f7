/**
 * Five-field cron lines (`minute hour day-of-month month day-of-week`) with `*`, lists, ranges and
 * steps; day-of-week 0 or 7 is Sunday. As in Vixie cron, when both day fields are restricted a day
 * matching either runs.
 */
import { lifeboatError } from '../errors';

export interface CronSpec {
  minutes: number[];
  hours: number[];
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  dayRestricted: boolean;
  weekdayRestricted: boolean;
}

const FIELDS: Array<[string, number, number]> = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12],
  ['day of week', 0, 7],
];

function parseField(text: string, [name, min, max]: [string, number, number]): number[] {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw lifeboatError('invalid-argument', `cron ${name} field "${text}" is not valid`);
    const from = m[1] === '*' ? min : Number(m[2]);
    const to = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : from;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (from < min || to > max || from > to || step < 1) {
      throw lifeboatError('invalid-argument', `cron ${name} field "${text}" is outside ${min}-${max}`);
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

export function parseCron(line: string): CronSpec {
  const fields = line.trim().split(/\s+/);
  if (fields.length !== 5) throw lifeboatError('invalid-argument', `a cron line has 5 fields (minute hour day month weekday), got ${fields.length}`);
  const [minutes, hours, days, months, weekdays] = fields.map((f, i) => parseField(f, FIELDS[i] as [string, number, number])) as [number[], number[], number[], number[], number[]];
  return {
    minutes,
    hours,
    days: new Set(days),
    months: new Set(months),
    weekdays: new Set(weekdays.map((d) => d % 7)),
    dayRestricted: fields[2] !== '*',
    weekdayRestricted: fields[4] !== '*',
  };
}

export function cronMatchesDay(spec: CronSpec, month: number, day: number, weekday: number): boolean {
  if (!spec.months.has(month)) return false;
  const byDay = spec.days.has(day);
  const byWeekday = spec.weekdays.has(weekday);
  if (spec.dayRestricted && spec.weekdayRestricted) return byDay || byWeekday;
  if (spec.dayRestricted) return byDay;
  if (spec.weekdayRestricted) return byWeekday;
  return true;
}
