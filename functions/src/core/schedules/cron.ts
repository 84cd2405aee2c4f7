/**
 * Five-field cron lines (`minute hour day-of-month month day-of-week`) as Vixie cron (cronie,
 * the cron of Linux distributions) reads them, computed by croner: numbers or three-letter names
 * (`jan`, `mon`), `*`, lists, ranges and steps (`*\/n`, `a-b/n`, `a/n` = `a-max/n`); day of week
 * 0 or 7 is Sunday; `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`,
 * `@hourly`.
 *
 * The two day fields combine as in Vixie cron: when either field starts with `*` (so `*\/2`
 * counts as a star, cronie's DOM_STAR/DOW_STAR flags in src/entry.c) a day must match both,
 * otherwise either. croner, like cron-parser, counts only a bare `*` as a star and would run
 * `0 0 *\/2 * 1` on every odd day and every Monday; Vixie cron runs it on odd days that are
 * Mondays, and so does this module (croner's `domAndDow` set per line).
 *
 * croner computes the calendar: which wall-clock minutes match. The time zone, daylight saving
 * and catch-up are the project's (next-run.ts, zoned-time.ts), so croner runs on wall-clock time
 * written as UTC and never sees a zone.
 */
import { Cron } from 'croner';
import { lifeboatError } from '../errors';

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/** Vixie cron's shorthands. `@reboot` has no time, so it is no schedule. */
const NICKNAMES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A parsed cron line: the matching wall-clock minutes, in no time zone. */
export interface CronSpec {
  /** The line as given. */
  readonly line: string;
  /** The five fields croner reads (shorthands expanded, `a/n` as `a-max/n`). */
  readonly fields: readonly string[];
  /** Whether the two day fields must both match (a star in either), else either. */
  readonly daysBoth: boolean;
  /**
   * The first matching wall-clock minute strictly after `wall` (both as epoch milliseconds of
   * that wall-clock time read as UTC), or null if none before the year 3000.
   */
  nextWallTime(wall: number): number | null;
}

const invalid = (field: Field, text: string) => {
  const names = field.names ? ` or names (${field.names[0]}…)` : '';
  return lifeboatError(
    'invalid-argument',
    `cron ${field.name} field "${text}" is not valid: expected ${field.min}-${field.max}${names}, lists (a,b), ranges (a-b) and steps (*/n, a-b/n, a/n)`,
  );
};

/**
 * One field in the grammar croner reads: checked against Vixie's grammar first (croner knows
 * more, `L`, `W`, `#`, `?`, which Vixie cron does not), `a/n` written out as `a-max/n`.
 */
function fieldForCroner(text: string, field: Field): string {
  return text
    .split(',')
    .map((item) => {
      const m = /^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:\/(\d+))?$/i.exec(item);
      if (!m?.[1]) throw invalid(field, text);
      for (const word of m[1].match(/[a-z]+/gi) ?? []) {
        if (!field.names?.includes(word.toLowerCase())) throw invalid(field, text);
      }
      const single = m[1] !== '*' && !m[1].includes('-');
      return m[2] !== undefined && single ? `${m[1]}-${field.max}/${m[2]}` : item;
    })
    .join(',');
}

/** Refuses a bad line with `invalid-argument` naming the field at fault. */
export function parseCron(line: string): CronSpec {
  const trimmed = line.trim();
  const expanded = trimmed.startsWith('@') ? NICKNAMES[trimmed.toLowerCase()] : trimmed;
  if (expanded === undefined) {
    throw lifeboatError('invalid-argument', `cron line "${trimmed}" is not one of ${Object.keys(NICKNAMES).join(', ')}`);
  }
  const given = expanded.split(/\s+/);
  if (given.length !== 5) throw lifeboatError('invalid-argument', `a cron line has 5 fields (minute hour day month weekday), got ${given.length}`);
  const fields = given.map((text, i) => fieldForCroner(text, FIELDS[i] as Field));
  const daysBoth = (given[2] ?? '').startsWith('*') || (given[4] ?? '').startsWith('*');
  const options = { mode: '5-part' as const, timezone: 'Etc/UTC', domAndDow: daysBoth };
  // Each field alone first, so an error names the field croner refused.
  fields.forEach((text, i) => {
    const probe = fields.map((f, j) => (j === i ? f : '*')).join(' ');
    try {
      new Cron(probe, options);
    } catch {
      throw invalid(FIELDS[i] as Field, given[i] ?? text);
    }
  });
  let cron: Cron;
  try {
    cron = new Cron(fields.join(' '), options);
  } catch (cause) {
    throw lifeboatError('invalid-argument', `cron line "${trimmed}" is not valid: ${(cause as Error).message}`, { cause });
  }
  return {
    line,
    fields,
    daysBoth,
    nextWallTime: (wall) => cron.nextRun(new Date(wall))?.getTime() ?? null,
  };
}
