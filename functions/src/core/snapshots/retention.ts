/**
 * Retention: which snapshots a user keeps. The rules work as restic's `forget --keep-*`: keep the
 * `keepLast` newest snapshots, and the newest snapshot of each of the most recent `keepDaily`
 * days, `keepWeekly` ISO weeks and `keepMonthly` months that have snapshots, in the user's time
 * zone. A snapshot any rule keeps is kept. Planning is pure; applying deletes only snapshot
 * records (blobs go later, by garbage collection: docs/invariants.md, "Blobs and write order").
 */
import { z } from 'zod';
import type { JobStore } from '../../ports';
import type { Snapshot } from '../model';

export const RetentionPolicy = z.strictObject({
  /** The newest N snapshots, whatever their dates. At least 1: the latest is never forgotten. @default 3 */
  keepLast: z.number().int().min(1).max(1000).default(3),
  /** The newest snapshot of each of the last N days with snapshots. @default 7 */
  keepDaily: z.number().int().min(0).max(3660).default(7),
  /** The newest snapshot of each of the last N ISO weeks with snapshots. @default 4 */
  keepWeekly: z.number().int().min(0).max(520).default(4),
  /** The newest snapshot of each of the last N months with snapshots. @default 12 */
  keepMonthly: z.number().int().min(0).max(240).default(12),
});
export type RetentionPolicy = z.infer<typeof RetentionPolicy>;

/** 3 last, 7 daily, 4 weekly, 12 monthly: a year of history in about 20 snapshots. */
export const DEFAULT_RETENTION: RetentionPolicy = Object.freeze(RetentionPolicy.parse({}));

export interface RetentionPlan {
  keep: Array<{ snapshot: Snapshot; reasons: string[] }>;
  forget: Snapshot[];
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar date of an instant in a time zone. */
export function localDate(at: number, timeZone: string): { year: number; month: number; day: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  return { year: Number(parts['year']), month: Number(parts['month']), day: Number(parts['day']) };
}

/** ISO 8601 week of a calendar date: weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const date = Date.UTC(year, month - 1, day);
  const weekday = (new Date(date).getUTCDay() + 6) % 7; // Monday = 0
  const thursday = date + (3 - weekday) * 86_400_000;
  const isoYear = new Date(thursday).getUTCFullYear();
  const dayOfYear = (thursday - Date.UTC(isoYear, 0, 1)) / 86_400_000;
  return { year: isoYear, week: Math.floor(dayOfYear / 7) + 1 };
}

const newestFirst = (a: Snapshot, b: Snapshot) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

export function planRetention(snapshots: readonly Snapshot[], policy: RetentionPolicy = DEFAULT_RETENTION, timeZone = 'UTC'): RetentionPlan {
  const sorted = [...snapshots].sort(newestFirst);
  const reasons = new Map<string, string[]>();
  const keep = (s: Snapshot, reason: string) => reasons.set(s.id, [...(reasons.get(s.id) ?? []), reason]);
  sorted.slice(0, policy.keepLast).forEach((s, i) => keep(s, `last ${i + 1}`));

  const rules: Array<[string, number, (s: Snapshot) => string]> = [
    ['daily', policy.keepDaily, (s) => { const d = localDate(s.createdAt, timeZone); return `${d.year}-${d.month}-${d.day}`; }],
    ['weekly', policy.keepWeekly, (s) => { const d = localDate(s.createdAt, timeZone); const w = isoWeek(d.year, d.month, d.day); return `${w.year}-W${w.week}`; }],
    ['monthly', policy.keepMonthly, (s) => { const d = localDate(s.createdAt, timeZone); return `${d.year}-${d.month}`; }],
  ];
  for (const [name, limit, bucketOf] of rules) {
    const seen = new Set<string>();
    for (const snapshot of sorted) {
      if (seen.size >= limit) break;
      const bucket = bucketOf(snapshot);
      if (seen.has(bucket)) continue;
      seen.add(bucket);
      keep(snapshot, `${name} ${bucket}`);
    }
  }
  return {
    keep: sorted.filter((s) => reasons.has(s.id)).map((snapshot) => ({ snapshot, reasons: reasons.get(snapshot.id) ?? [] })),
    forget: sorted.filter((s) => !reasons.has(s.id)),
  };
}

/**
 * Plans retention over all of a user's snapshots and deletes the records of those it forgets, in
 * transactions of at most 400 deletes. Returns the forgotten snapshots.
 */
export async function applyRetention(store: JobStore, uid: string, policy: RetentionPolicy = DEFAULT_RETENTION, timeZone = 'UTC'): Promise<Snapshot[]> {
  const all: Snapshot[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listSnapshots({ uid, limit: 100, ...(cursor ? { cursor } : {}) });
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  const { forget } = planRetention(all, policy, timeZone);
  for (let i = 0; i < forget.length; i += 400) {
    const batch = forget.slice(i, i + 400);
    await store.runTransaction(async (tx) => {
      for (const snapshot of batch) tx.deleteSnapshot(snapshot.id);
    });
  }
  return forget;
}
