/**
 * Retention: which snapshots a user keeps. The rules work as restic's `forget --keep-*`, grouped
 * the way restic groups by host and paths: per device and per backup type. Within each group
 * (one device's snapshots holding one type) keep the `keepLast` newest snapshots, and the newest
 * snapshot of each of the most recent `keepDaily` days, `keepWeekly` ISO weeks and `keepMonthly`
 * months that have snapshots, in the user's time zone. A snapshot any rule of any of its groups
 * keeps is kept, so a tablet's frequent device-info backups never evict the phone's only contacts
 * snapshot (docs/invariants.md, "Retention"). Planning is pure; applying deletes only snapshot
 * records (blobs go later, by garbage collection: docs/invariants.md, "Blobs and write order").
 */
import type { JobStore } from '../../ports';
import type { Snapshot } from '../model';

import { RetentionPolicy } from '@lifeboat/protocol';

export { RetentionPolicy };

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

/** The groups a snapshot belongs to: one per type it holds, on its device. */
export function retentionGroupsOf(snapshot: Pick<Snapshot, 'deviceId' | 'types'>): string[] {
  // A snapshot without types (none is written today) still has a group, so it is never forgotten unseen.
  return snapshot.types.length === 0 ? [`${snapshot.deviceId}/*`] : snapshot.types.map((type) => `${snapshot.deviceId}/${type}`);
}

/** Plans one group: every snapshot given is taken to hold the group's device and type. */
function planGroup(sorted: readonly Snapshot[], policy: RetentionPolicy, timeZone: string, keep: (s: Snapshot, reason: string) => void): void {
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
}

/**
 * Plans retention over a user's snapshots, group by group ({@link retentionGroupsOf}). Reasons
 * name the group when the snapshots span more than one (`phone/contacts: last 1`).
 */
export function planRetention(snapshots: readonly Snapshot[], policy: RetentionPolicy = DEFAULT_RETENTION, timeZone = 'UTC'): RetentionPlan {
  const sorted = [...snapshots].sort(newestFirst);
  const groups = new Map<string, Snapshot[]>();
  for (const snapshot of sorted) {
    for (const group of retentionGroupsOf(snapshot)) {
      const members = groups.get(group) ?? [];
      members.push(snapshot);
      groups.set(group, members);
    }
  }
  const named = groups.size > 1;
  const reasons = new Map<string, string[]>();
  for (const [group, members] of groups) {
    planGroup(members, policy, timeZone, (s, reason) => reasons.set(s.id, [...(reasons.get(s.id) ?? []), named ? `${group}: ${reason}` : reason]));
  }
  return {
    keep: sorted.filter((s) => reasons.has(s.id)).map((snapshot) => ({ snapshot, reasons: reasons.get(snapshot.id) ?? [] })),
    forget: sorted.filter((s) => !reasons.has(s.id)),
  };
}

export interface ApplyRetentionOptions {
  /** Plan only: delete nothing. @default false */
  dryRun?: boolean;
  /** @default 'UTC' */
  timeZone?: string;
}

/**
 * Plans retention over all of a user's snapshots and deletes the records of those it forgets
 * (unless `dryRun`), in transactions of at most 400 deletes. Returns the plan.
 */
export async function applyRetention(store: JobStore, uid: string, policy: RetentionPolicy = DEFAULT_RETENTION, options: ApplyRetentionOptions = {}): Promise<RetentionPlan> {
  const all: Snapshot[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listSnapshots({ uid, limit: 100, ...(cursor ? { cursor } : {}) });
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  const plan = planRetention(all, policy, options.timeZone ?? 'UTC');
  if (options.dryRun) return plan;
  for (let i = 0; i < plan.forget.length; i += 400) {
    const batch = plan.forget.slice(i, i + 400);
    await store.runTransaction(async (tx) => {
      for (const snapshot of batch) tx.deleteSnapshot(snapshot.id);
    });
  }
  return plan;
}
