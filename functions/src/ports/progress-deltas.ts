/**
 * What `JobTransaction.incrementJob` means, written once so every JobStore (SQLite, Firestore,
 * the in-memory fake) validates and applies progress increments identically.
 */
import { lifeboatError } from '../core/errors';
import { BACKUP_TYPES, emptyProgress, type BackupJob, type TypeProgress } from '../core/model';
import type { JobTouch, ProgressCounter, ProgressDeltas } from './job-store';

const COUNTERS: readonly string[] = Object.keys(emptyProgress()).filter((name) => name !== 'byType');
const TYPE_FIELDS: readonly (keyof TypeProgress)[] = ['items', 'skipped', 'bytes'];

function checkInteger(value: unknown, what: string): void {
  if (value !== undefined && !Number.isSafeInteger(value)) {
    throw lifeboatError('invalid-argument', `${what} must be an integer`);
  }
}

/**
 * Validates an increment and returns deep copies of it, for a store to buffer until commit: a caller
 * mutating its objects afterwards changes nothing. Call it when `incrementJob` is called, so a bad
 * increment fails there rather than at commit.
 *
 * @throws LifeboatError `invalid-argument` for an unknown counter, backup type or per-type field,
 *   or an amount or timestamp that is not a safe integer.
 */
export function checkProgressDeltas(
  deltas: ProgressDeltas,
  touch: JobTouch = {},
): { deltas: ProgressDeltas; touch: JobTouch } {
  for (const [name, amount] of Object.entries(deltas.counters ?? {})) {
    if (!COUNTERS.includes(name)) throw lifeboatError('invalid-argument', `unknown progress counter ${name}`);
    checkInteger(amount, name);
  }
  for (const [type, fields] of Object.entries(deltas.byType ?? {})) {
    if (!(BACKUP_TYPES as readonly string[]).includes(type)) throw lifeboatError('invalid-argument', `unknown type ${type}`);
    for (const [name, amount] of Object.entries(fields ?? {})) {
      if (!(TYPE_FIELDS as readonly string[]).includes(name)) throw lifeboatError('invalid-argument', `unknown field ${name}`);
      checkInteger(amount, `${type}.${name}`);
    }
  }
  checkInteger(touch.updatedAt, 'updatedAt');
  checkInteger(touch.heartbeatAt, 'heartbeatAt');
  return JSON.parse(JSON.stringify({ deltas, touch })) as { deltas: ProgressDeltas; touch: JobTouch };
}

/**
 * Applies an increment checked by {@link checkProgressDeltas} to the job as stored at commit time:
 * each amount is added to its counter, a `byType` entry the job lacks starts at zero, and the touch
 * fields overwrite theirs. Updates `job` in place and returns it.
 */
export function applyProgressDeltas(job: BackupJob, deltas: ProgressDeltas, touch: JobTouch = {}): BackupJob {
  const progress = job.progress;
  for (const [name, amount] of Object.entries(deltas.counters ?? {})) {
    progress[name as ProgressCounter] += amount ?? 0;
  }
  for (const type of BACKUP_TYPES) {
    const fields = deltas.byType?.[type];
    if (!fields) continue;
    const current = progress.byType[type] ?? { items: 0, skipped: 0, bytes: 0 };
    progress.byType[type] = {
      items: current.items + (fields.items ?? 0),
      skipped: current.skipped + (fields.skipped ?? 0),
      bytes: current.bytes + (fields.bytes ?? 0),
    };
  }
  if (touch.updatedAt !== undefined) job.updatedAt = touch.updatedAt;
  if (touch.heartbeatAt !== undefined) job.heartbeatAt = touch.heartbeatAt;
  return job;
}
