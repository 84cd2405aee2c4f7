/**
 * Wall-clock time in an IANA time zone, from Intl alone (no time-zone library): the parts of an
 * instant, and the instant of a wall-clock time, with the two DST edge cases settled the way cron
 * users expect: a time that does not exist (spring forward) runs when the clocks jump; a time that
 * happens twice (fall back) runs the first time.
 */
export interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** 0 = Sunday. */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws RangeError for a name Intl does not know. */
export function assertTimeZone(timeZone: string): void {
  formatter(timeZone);
}

export function zonedParts(at: number, timeZone: string): ZonedParts {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(at).map((p) => [p.type, p.value]));
  return {
    year: Number(parts['year']),
    month: Number(parts['month']),
    day: Number(parts['day']),
    hour: Number(parts['hour']),
    minute: Number(parts['minute']),
    weekday: WEEKDAYS.indexOf(parts['weekday'] ?? ''),
  };
}

/** The zone's offset from UTC at an instant, in milliseconds (positive east of Greenwich). */
function offsetAt(at: number, timeZone: string): number {
  const p = zonedParts(at, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - Math.floor(at / 60_000) * 60_000;
}

/** The instant of a local wall-clock time (month 1-12); see the module comment for DST. */
export function zonedTimeToUtc(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const candidates = [...new Set([offsetAt(wall - 86_400_000, timeZone), offsetAt(wall + 86_400_000, timeZone), offsetAt(wall, timeZone)])].map((o) => wall - o);
  const matching = candidates.filter((t) => {
    const p = zonedParts(t, timeZone);
    return p.year === year && p.month === month && p.day === day && p.hour === hour && p.minute === minute;
  });
  if (matching.length > 0) return Math.min(...matching);
  // A wall time the clocks skip: the instant they jump, the first minute with the later offset
  // (for 02:30 when 02:00 jumps to 03:00, 03:00; reading the time with the earlier offset would
  // give 03:30, half an hour after the jump).
  let lo = Math.min(...candidates);
  let hi = Math.max(...candidates);
  const later = offsetAt(hi, timeZone);
  while (hi - lo > 60_000) {
    const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
    if (offsetAt(mid, timeZone) === later) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The calendar date `days` after a date (month 1-12). */
export function addDays(year: number, month: number, day: number, days: number): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(year, month - 1, day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
