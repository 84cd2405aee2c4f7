/**
 * The writes of one Firestore JobStore transaction, merged per document before they reach the
 * SDK's transaction, so each document is written once per commit:
 *
 * - a set or delete replaces whatever the transaction wrote to the document before;
 * - an increment after a set of the same job is applied to the set's document (the job then
 *   holds the sum, as on the other stores);
 * - increments of one job add up, and later touch fields win;
 * - an increment after a delete fails at the call, as the commit would (`not-found`).
 *
 * An increment becomes one `update()` of field paths with `FieldValue.increment`, which does not
 * read the job, so concurrent chunk steps do not contend on it, and fails with NOT_FOUND when
 * the job is missing at commit.
 */
import { FieldValue, type DocumentData } from '@google-cloud/firestore';
import { lifeboatError } from '../core/errors';
import { BACKUP_TYPES, BackupJob } from '../core/model';
import { applyProgressDeltas, type JobTouch, type ProgressCounter, type ProgressDeltas } from '../ports';
import { fromDocument, toDocument } from './firestore-documents';

const TYPE_FIELDS = ['items', 'skipped', 'bytes'] as const;

/** One merged write, by document path. */
export type BufferedWrite =
  | { kind: 'set'; path: string; data: DocumentData }
  | { kind: 'delete'; path: string }
  | { kind: 'increment'; path: string; deltas: ProgressDeltas; touch: JobTouch };

/**
 * The `update()` data for an increment: `FieldValue.increment` per counter, and per per-type
 * entry all three fields (an entry the job lacks must come out whole, `{items, skipped, bytes}`,
 * so absent amounts add 0), plus the touch fields. Never empty: an increment of nothing still
 * updates `progress.totalChunks` by 0, so a missing job fails the commit on every store alike.
 */
export function incrementUpdate(deltas: ProgressDeltas, touch: JobTouch = {}): Record<string, FieldValue | number> {
  const update: Record<string, FieldValue | number> = {};
  for (const [name, amount] of Object.entries(deltas.counters ?? {})) {
    if (amount !== undefined) update[`progress.${name}`] = FieldValue.increment(amount);
  }
  for (const type of BACKUP_TYPES) {
    const fields = deltas.byType?.[type];
    if (!fields) continue;
    for (const field of TYPE_FIELDS) {
      update[`progress.byType.${type}.${field}`] = FieldValue.increment(fields[field] ?? 0);
    }
  }
  if (touch.updatedAt !== undefined) update.updatedAt = touch.updatedAt;
  if (touch.heartbeatAt !== undefined) update.heartbeatAt = touch.heartbeatAt;
  if (Object.keys(update).length === 0) update['progress.totalChunks'] = FieldValue.increment(0);
  return update;
}

function addDeltas(a: ProgressDeltas, b: ProgressDeltas): ProgressDeltas {
  const counters: Partial<Record<ProgressCounter, number>> = { ...a.counters };
  for (const [name, amount] of Object.entries(b.counters ?? {})) {
    const key = name as ProgressCounter;
    counters[key] = (counters[key] ?? 0) + (amount ?? 0);
  }
  const byType: NonNullable<ProgressDeltas['byType']> = {};
  for (const type of BACKUP_TYPES) {
    const left = a.byType?.[type];
    const right = b.byType?.[type];
    if (!left && !right) continue;
    const sum: Partial<Record<(typeof TYPE_FIELDS)[number], number>> = {};
    for (const field of TYPE_FIELDS) {
      const value = left?.[field] === undefined && right?.[field] === undefined ? undefined : (left?.[field] ?? 0) + (right?.[field] ?? 0);
      if (value !== undefined) sum[field] = value;
    }
    byType[type] = sum;
  }
  return { counters, byType };
}

/** The merged writes of one transaction attempt; see the module comment. */
export class FirestoreWriteBuffer {
  private readonly writes = new Map<string, BufferedWrite>();

  set(path: string, value: object): void {
    this.replace({ kind: 'set', path, data: toDocument(value) });
  }

  delete(path: string): void {
    this.replace({ kind: 'delete', path });
  }

  /**
   * Adds an increment checked by `checkProgressDeltas`.
   *
   * @throws LifeboatError `not-found` after a delete of the same document in this transaction.
   */
  increment(path: string, deltas: ProgressDeltas, touch: JobTouch): void {
    const earlier = this.writes.get(path);
    if (!earlier) {
      this.writes.set(path, { kind: 'increment', path, deltas, touch });
      return;
    }
    switch (earlier.kind) {
      case 'set': {
        const job = fromDocument(BackupJob, earlier.data, `job at ${path}`);
        this.writes.set(path, { kind: 'set', path, data: toDocument(applyProgressDeltas(job, deltas, touch)) });
        return;
      }
      case 'increment':
        this.writes.set(path, {
          kind: 'increment',
          path,
          deltas: addDeltas(earlier.deltas, deltas),
          touch: { ...earlier.touch, ...touch },
        });
        return;
      case 'delete':
        throw lifeboatError('not-found', `cannot increment ${path}: this transaction deleted it`);
    }
  }

  /** The merged writes, in the order their documents were first written. */
  list(): BufferedWrite[] {
    return [...this.writes.values()];
  }

  private replace(write: BufferedWrite): void {
    // Deleting first moves the document to the end: the SDK then sees writes in call order.
    this.writes.delete(write.path);
    this.writes.set(write.path, write);
  }
}
