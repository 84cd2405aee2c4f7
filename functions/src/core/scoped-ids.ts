/**
 * Ids a client names are per user (issue 16 item 9). A job created with a client's idempotency
 * key, and a schedule created with a client's `scheduleId`, are stored under an id derived from
 * the user and the key, so one user's key can never name, block or reveal another user's job or
 * schedule: a predictable key (`nightly-2026-12-07-phone1`) taken by someone else first changes
 * nothing for its owner. Ids stored before this rule (the key itself) are still found: a key that
 * names the caller's own document is that document (docs/invariants.md, "Documents and identity").
 */
import { sha256Hex } from './hash';

/**
 * The stored id of the job user `uid` creates with idempotency key `key`: `k` and 40 hex digits
 * (160 bits) of a SHA-256 of both. Fits the job id pattern (`[A-Za-z0-9_-]{8,64}`), so it is
 * passed back in every call as any job id is.
 */
export function scopedJobId(uid: string, key: string): string {
  return `k${sha256Hex(`job\u0000${uid}\u0000${key}`).slice(0, 40)}`;
}

/** The stored id of the schedule user `uid` sets with `scheduleId`: `k` and 32 hex digits (`[A-Za-z0-9]{8,40}`). */
export function scopedScheduleId(uid: string, key: string): string {
  return `k${sha256Hex(`schedule\u0000${uid}\u0000${key}`).slice(0, 32)}`;
}
