/**
 * Cron lines on croner with the project's rules on top: the libraries' own reference cases for
 * `*\/n` in each field (next-run times from croner's and cron-parser's test suites), Vixie cron's
 * rule for the two day fields (where both libraries differ from it), the project's DST rules
 * (a skipped time runs when the clocks jump, a repeated one the first time) and refusals.
 */
import { parseCron } from '../../src/core/schedules/cron';
import { nextRunAt } from '../../src/core/schedules/next-run';
import { zonedParts, zonedTimeToUtc } from '../../src/core/schedules/zoned-time';

const iso = (t: number) => new Date(t).toISOString();
const schedule = (cron: string, timeZone: string) => ({ kind: 'custom' as const, timeZone, everyHours: null, cron, lastRunAt: null, createdAt: 0 });
const pad = (n: number) => String(n).padStart(2, '0');

/** The next `count` runs after a wall-clock time in a zone, as wall-clock `YYYY-MM-DDTHH:MM`. */
function wallRuns(cron: string, timeZone: string, startWall: string, count: number): string[] {
  const [date = '', time = '00:00:00'] = startWall.split('T');
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi, sec = 0] = time.split(':').map(Number) as [number, number, number?];
  let at = zonedTimeToUtc(y, mo, d, h, mi, timeZone) + sec * 1000;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    at = nextRunAt(schedule(cron, timeZone), at);
    const p = zonedParts(at, timeZone);
    out.push(`${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`);
  }
  return out;
}

// Each case: the library's pattern (as five fields), its start time and its expected runs,
// read in zones without DST (UTC and Tokyo), where the library's local time is the wall clock.
const REFERENCE: Array<{ field: string; source: string; cron: string; start: string; runs: string[] }> = [
  {
    field: 'minute', source: 'croner test/disable-fields.test.ts, "5-part mode with minute stepping pattern"',
    cron: '*/15 * * * *', start: '2024-01-01T00:00:00', runs: ['2024-01-01T00:15', '2024-01-01T00:30', '2024-01-01T00:45'],
  },
  {
    field: 'minute', source: 'croner test/previous-runs.test.ts, "*/5 * * * *" (read forwards)',
    cron: '*/5 * * * *', start: '2024-01-01T12:07:00', runs: ['2024-01-01T12:10', '2024-01-01T12:15', '2024-01-01T12:20', '2024-01-01T12:25', '2024-01-01T12:30'],
  },
  {
    field: 'hour', source: 'croner test/stepping.test.ts, "Steps for hours should yield correct hours" (1 1 */3 * * *, minute 1)',
    cron: '1 */3 * * *', start: '2020-01-01T00:00:00',
    runs: ['2020-01-01T00:01', '2020-01-01T03:01', '2020-01-01T06:01', '2020-01-01T09:01', '2020-01-01T12:01', '2020-01-01T15:01', '2020-01-01T18:01', '2020-01-01T21:01', '2020-01-02T00:01', '2020-01-02T03:01'],
  },
  {
    field: 'day of month', source: 'croner test/stepping.test.ts, "Steps for days should yield correct days with wildcard and start date"',
    cron: '1 1 */3 * *', start: '2020-12-05T00:00:00', runs: ['2020-12-07T01:01', '2020-12-10T01:01', '2020-12-13T01:01'],
  },
  {
    field: 'day of month', source: 'cron-parser tests/CronExpressionParser.test.ts, "using explicit month definition and */5 day of month step"',
    cron: '0 12 */5 6 *', start: '2019-06-01T11:00:00',
    runs: ['2019-06-01T12:00', '2019-06-06T12:00', '2019-06-11T12:00', '2019-06-16T12:00', '2019-06-21T12:00', '2019-06-26T12:00', '2020-06-01T12:00'],
  },
  {
    field: 'day of month', source: 'cron-parser tests/CronExpressionParser.test.ts, same test, second iterator',
    cron: '0 15 */5 5 *', start: '2019-05-01T11:00:00',
    runs: ['2019-05-01T15:00', '2019-05-06T15:00', '2019-05-11T15:00', '2019-05-16T15:00', '2019-05-21T15:00', '2019-05-26T15:00', '2019-05-31T15:00', '2020-05-01T15:00'],
  },
  {
    field: 'month', source: 'croner test/stepping.test.ts, "Steps for months should yield correct months"',
    cron: '1 1 1 */3 *', start: '2020-12-31T23:59:59', runs: ['2021-01-01T01:01', '2021-04-01T01:01', '2021-07-01T01:01', '2021-10-01T01:01'],
  },
  {
    field: 'month', source: 'croner test/stepping.test.ts, "Steps for months should yield correct months with wildcard and start date"',
    cron: '1 1 1 */2 *', start: '2020-05-01T00:00:00', runs: ['2020-05-01T01:01', '2020-07-01T01:01', '2020-09-01T01:01', '2020-11-01T01:01', '2021-01-01T01:01'],
  },
  {
    // cron-parser stringifies `* * * * */2` as `0,2,4,6`: Sunday, Tuesday, Thursday, Saturday.
    field: 'day of week', source: 'cron-parser tests/CronExpression.test.ts, "correctly stringify cron expression * * * * */2"',
    cron: '0 9 * * */2', start: '2026-11-30T00:00:00', // a Monday
    runs: ['2026-12-01T09:00', '2026-12-03T09:00', '2026-12-05T09:00', '2026-12-06T09:00', '2026-12-08T09:00'],
  },
];

describe('cron: the libraries\' reference cases for */n in each field', () => {
  it('covers every field', () => {
    expect(new Set(REFERENCE.map((c) => c.field))).toEqual(new Set(['minute', 'hour', 'day of month', 'month', 'day of week']));
  });

  it.each(REFERENCE.flatMap((c) => ['UTC', 'Asia/Tokyo'].map((zone) => [c.field, c.cron, zone, c] as const)))('%s: %s in %s', (_field, cron, zone, c) => {
    expect(wallRuns(cron, zone, c.start, c.runs.length)).toEqual(c.runs);
  });
});

describe('cron: the two day fields as Vixie cron combines them', () => {
  it('a day field starting with * (also */n) makes the other one a filter: both must match', () => {
    // Odd days that are Mondays (croner and cron-parser would run every odd day and every Monday).
    expect(wallRuns('0 2 */2 * 1', 'UTC', '2026-11-01T00:00:00', 4)).toEqual(['2026-11-09T02:00', '2026-11-23T02:00', '2026-12-07T02:00', '2026-12-21T02:00']);
    // cron-parser reads `0 0 16 * */1` as `0 0 16 * 0-6`, every day; Vixie cron as the 16th.
    expect(wallRuns('0 0 16 * */1', 'UTC', '2026-11-01T00:00:00', 2)).toEqual(['2026-11-16T00:00', '2026-12-16T00:00']);
    expect(parseCron('0 0 16 * */1').daysBoth).toBe(true);
  });

  it('both restricted without a star: either matches', () => {
    // croner test/ocps-1.0.test.ts, "Day of month and day of week should use OR logic by default".
    const runs = wallRuns('0 12 1 * mon', 'UTC', '2026-11-25T00:00:00', 4);
    expect(runs).toEqual(['2026-11-30T12:00', '2026-12-01T12:00', '2026-12-07T12:00', '2026-12-14T12:00']);
    expect(parseCron('0 12 1 * mon').daysBoth).toBe(false);
  });
});

describe('cron: grammar', () => {
  it.each([
    ['5/15 * * * *', '2026-01-01T00:00:00', ['2026-01-01T00:05', '2026-01-01T00:20', '2026-01-01T00:35', '2026-01-01T00:50']], // a/n = a-max/n
    ['0 9 * * 1/2', '2026-11-30T00:00:00', ['2026-11-30T09:00', '2026-12-02T09:00', '2026-12-04T09:00', '2026-12-06T09:00']], // Mon, Wed, Fri, Sun (7)
    ['0 9 * * mon-fri', '2026-12-04T10:00:00', ['2026-12-07T09:00', '2026-12-08T09:00']],
    ['0 0 1 jan,JUL *', '2026-02-01T00:00:00', ['2026-07-01T00:00', '2027-01-01T00:00']],
    ['0 8-18/5 * * *', '2026-01-01T00:00:00', ['2026-01-01T08:00', '2026-01-01T13:00', '2026-01-01T18:00', '2026-01-02T08:00']],
    ['@daily', '2026-01-01T10:00:00', ['2026-01-02T00:00']],
    ['@Weekly', '2026-11-25T10:00:00', ['2026-11-29T00:00']],
    ['@hourly', '2026-01-01T10:30:00', ['2026-01-01T11:00']],
    ['0 0 29 2 *', '2026-03-01T00:00:00', ['2028-02-29T00:00', '2032-02-29T00:00']], // further off than a year
  ])('%s', (cron, start, runs) => {
    expect(wallRuns(cron, 'UTC', start, runs.length)).toEqual(runs);
  });

  it.each([
    ['* * * *', /5 fields/],
    ['60 * * * *', /minute field "60"/],
    ['0 24 * * *', /hour field "24"/],
    ['0 0 0 * *', /day of month field "0"/],
    ['0 0 * 13 *', /month field "13"/],
    ['0 0 * * 8', /day of week field "8"/],
    ['x * * * *', /minute field "x"/],
    ['5-1 * * * *', /minute field "5-1"/],
    ['*/0 * * * *', /minute field/],
    ['0 0 L * *', /day of month field "L"/], // croner's extensions are not Vixie cron
    ['0 0 15W * *', /day of month/],
    ['0 0 ? * 1', /day of month/],
    ['0 0 * * 5#3', /day of week/],
    ['0 0 * * mon#1', /day of week/],
    ['0 0 * mon *', /month field "mon"/], // a day's name in the month field
    ['0 0 1 * +mon', /day of week/],
    ['0 0 1 1 * 2030', /5 fields/], // croner's year field
    ['@reboot', /not one of/],
    ['@every 5m', /not one of/],
  ])('refuses %j', (line, message) => {
    expect(() => parseCron(line)).toThrow(expect.objectContaining({ code: 'invalid-argument', message: expect.stringMatching(message) }));
  });

  it('a line that never runs is refused', () => {
    for (const line of ['0 0 31 2 *', '0 0 30 2 *', '0 0 31 4,6,9,11 *']) {
      expect(() => nextRunAt(schedule(line, 'UTC'), 0)).toThrow(expect.objectContaining({ code: 'invalid-argument', message: expect.stringMatching(/never runs/) }));
    }
  });
});

describe('cron: daylight saving, by the project\'s rules', () => {
  // New York: 8 March 2026 02:00 EST jumps to 03:00 EDT (07:00Z); 1 November 2026 02:00 EDT
  // falls back to 01:00 EST (06:00Z), so 01:00-01:59 happens twice.
  const ny = (cron: string, afterIso: string, count: number) => {
    let at = Date.parse(afterIso);
    return Array.from({ length: count }, () => iso((at = nextRunAt(schedule(cron, 'America/New_York'), at))));
  };

  it('a time the clocks skip runs when they jump, once', () => {
    expect(ny('30 2 * * *', '2026-03-07T12:00:00Z', 2)).toEqual(['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']);
    // 01:45 EST, then 02:00-02:45 (skipped) and 03:00 EDT all at the jump, one run; then 03:15 EDT.
    expect(ny('*/15 * * * *', '2026-03-08T06:40:00Z', 3)).toEqual(['2026-03-08T06:45:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-08T07:15:00.000Z']);
    // A 30-minute shift: Lord Howe Island jumps from 02:00 (+10:30) to 02:30 (+11) on 4 October 2026.
    expect(iso(nextRunAt(schedule('15 2 * * *', 'Australia/Lord_Howe'), Date.parse('2026-10-03T12:00:00Z')))).toBe('2026-10-03T15:30:00.000Z');
  });

  it('a time the clocks repeat runs the first time only', () => {
    expect(ny('30 1 * * *', '2026-11-01T04:00:00Z', 2)).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
    // 01:00 and 01:30 EDT run; their EST repeats do not; 02:00 EST is next.
    expect(ny('*/30 * * * *', '2026-11-01T04:40:00Z', 3)).toEqual(['2026-11-01T05:00:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-01T07:00:00.000Z']);
    // Asked from inside the repeated hour (01:10 EST), the next run is past it.
    expect(ny('*/5 * * * *', '2026-11-01T06:10:00Z', 1)).toEqual(['2026-11-01T07:00:00.000Z']);
  });
});
