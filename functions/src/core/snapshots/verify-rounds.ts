/**
 * A verify of a whole snapshot that never keeps a callable waiting on work that grows with the
 * snapshot (issue 9): the `verifySnapshot` callable checks inline for at most
 * {@link INLINE_VERIFY_MS}; what it cannot finish goes on in rounds, `maintenance` tasks that each
 * work until a minute before their deadline, save their counts, problems and cursor on the
 * snapshot's verify record (`Snapshot.verification`), and enqueue the next round.
 *
 * Idempotent by construction: a record is named by its `startedAt`, and a round saves only over
 * the round before it (`nextRound`), in a transaction, so a round run twice, or two copies at once,
 * count nothing twice; its task id derives from the snapshot, the verify's start and the round.
 */
import { reportOfRecord, type StartedVerify } from '@lifeboat/protocol';
import type { EngineDeps } from '../deps';
import { codeOf, isRetryable, lifeboatError, messageOf } from '../errors';
import { VERIFY_RECORD_LIMITS, type Snapshot, type SnapshotVerification, type StoredVerifyProblem } from '../model';
import { healthOf, verifyPage, type VerifyProblem, type VerifyRun } from './verify-snapshot';

/** How long the callable checks inline before it hands the rest to tasks (a callable has 60 s). */
export const INLINE_VERIFY_MS = 20_000;

/**
 * A running record not saved for this long belongs to a chain of rounds that died (a round saves
 * at least every 8 minutes while it works; a task dropped after its last attempt saves nothing):
 * a new `verifySnapshot` call starts over instead of waiting on it.
 */
export const STALE_VERIFY_MS = 30 * 60_000;

/** What the callable answers: the report when the verify finished inline, else the running record. */
export { reportOfRecord, type StartedVerify };

/** A round's task payload (`maintenance` queue). */
export interface VerifyRoundTask {
  uid: string;
  snapshotId: string;
  /** The verify's `startedAt`: a round of an earlier verify does nothing. */
  startedAt: number;
  round: number;
}

type VerifyRoundDeps = Pick<EngineDeps, 'store' | 'blobs' | 'keyRing' | 'clock' | 'queue' | 'logger'>;

const utf8Length = (text: string) => new TextEncoder().encode(text).byteLength;

/** The problems a record keeps: the first ones, each with its first items, within `VERIFY_RECORD_LIMITS`. */
export function storedProblems(problems: readonly VerifyProblem[]): StoredVerifyProblem[] {
  const kept: StoredVerifyProblem[] = [];
  let bytes = 0;
  for (const problem of problems) {
    if (kept.length >= VERIFY_RECORD_LIMITS.problems) break;
    const cut = problem.items.length > VERIFY_RECORD_LIMITS.itemsPerProblem;
    const stored: StoredVerifyProblem = {
      kind: problem.kind,
      blob: problem.blob,
      items: problem.items.slice(0, VERIFY_RECORD_LIMITS.itemsPerProblem).map((i) => ({ type: i.type, sourceId: i.sourceId })),
      ...(cut || problem.itemCount !== undefined ? { itemCount: problem.itemCount ?? problem.items.length } : {}),
      message: problem.message,
    };
    bytes += utf8Length(JSON.stringify(stored));
    // Only a prefix is kept, so "the first problems" stays true.
    if (bytes > VERIFY_RECORD_LIMITS.problemBytes) break;
    kept.push(stored);
  }
  return kept;
}

function recordAfter(record: SnapshotVerification, run: VerifyRun, now: number): SnapshotVerification {
  return {
    status: run.done ? 'done' : 'running',
    samplePercent: record.samplePercent,
    startedAt: record.startedAt,
    updatedAt: now,
    nextRound: record.nextRound + 1,
    cursor: run.cursor,
    checkedBlobs: run.report.checkedBlobs,
    totalBlobs: run.report.totalBlobs,
    checkedItems: run.report.checkedItems,
    checkedSegments: run.segments.checked,
    totalSegments: run.segments.total,
    problems: storedProblems(run.report.problems),
    problemCount: run.report.problemCount,
    ...(run.report.manifestDamaged ? { manifestDamaged: true } : {}),
  };
}

type Saved = { saved: SnapshotVerification } | { gone: true } | { superseded: SnapshotVerification | null };

/**
 * Saves round `round` of the verify started at `startedAt`, only over the round before it; with
 * `health` when the verify is done. Says why it did not when it did not.
 */
async function saveRound(deps: VerifyRoundDeps, snapshotId: string, startedAt: number, round: number, update: (record: SnapshotVerification) => SnapshotVerification): Promise<Saved> {
  return deps.store.runTransaction(async (tx): Promise<Saved> => {
    const current = await tx.getSnapshot(snapshotId);
    if (!current) return { gone: true };
    const record = current.verification;
    if (!record || record.startedAt !== startedAt || record.nextRound !== round || record.status !== 'running') return { superseded: record ?? null };
    const next = update(record);
    const health = next.status === 'done' ? { health: healthOf(reportOfRecord(snapshotId, next), next.updatedAt) } : {};
    tx.setSnapshot({ ...current, ...health, verification: next });
    return { saved: next };
  });
}

/** Enqueues round `round` (task id from the snapshot, the verify's start and the round: enqueued once). */
export async function enqueueVerifyRound(deps: Pick<EngineDeps, 'queue'>, task: VerifyRoundTask): Promise<void> {
  await deps.queue.enqueue('maintenance', { kind: 'verify', ...task }, { id: `verify_${task.snapshotId}_${task.startedAt}_${task.round}` });
}

/**
 * The callable's part: returns the running verify of the snapshot if there is one; else starts
 * one, checks for at most {@link INLINE_VERIFY_MS}, and either answers with the report (done) or
 * saves the record, enqueues round 1 and answers with the record.
 */
export async function startVerify(deps: VerifyRoundDeps, snapshot: Snapshot, samplePercent: number): Promise<StartedVerify> {
  const now = deps.clock.now();
  const claim = await deps.store.runTransaction(async (tx) => {
    const current = await tx.getSnapshot(snapshot.id);
    if (!current) return null;
    const running = current.verification;
    if (running?.status === 'running' && now - running.updatedAt < STALE_VERIFY_MS) return { running };
    const record: SnapshotVerification = {
      status: 'running',
      samplePercent,
      // Strictly after the last verify's start, so a new verify never takes an old one's task ids.
      startedAt: Math.max(now, (running?.startedAt ?? 0) + 1),
      updatedAt: now,
      nextRound: 0,
      cursor: null,
      checkedBlobs: 0,
      totalBlobs: 0,
      checkedItems: 0,
      checkedSegments: 0,
      totalSegments: 0,
      problems: [],
      problemCount: 0,
    };
    tx.setSnapshot({ ...current, verification: record });
    return { started: record };
  });
  if (!claim) throw lifeboatError('not-found', `snapshot ${snapshot.id} not found`);
  if ('running' in claim) return { report: null, verification: claim.running };
  const { startedAt } = claim.started;

  let run: VerifyRun;
  try {
    run = await verifyPage(deps, snapshot, { samplePercent, stopAt: now + INLINE_VERIFY_MS });
  } catch (err) {
    // Storage down, say: the caller gets the error, and the record no longer says running.
    await saveRound(deps, snapshot.id, startedAt, 0, (record) => failed(record, err, deps.clock.now())).catch((saveErr: unknown) => deps.logger.warn(`verify record not ended [snapshot=${snapshot.id}]: ${messageOf(saveErr)}`));
    throw err;
  }
  // A verify's report is dated by its record.
  run.report.checkedAt = startedAt;
  const saved = await saveRound(deps, snapshot.id, startedAt, 0, (record) => recordAfter(record, run, deps.clock.now()));
  if (run.done) return { report: run.report };
  if ('gone' in saved) throw lifeboatError('not-found', `snapshot ${snapshot.id} was deleted during its verify`);
  if ('superseded' in saved) {
    if (saved.superseded) return { report: null, verification: saved.superseded };
    throw lifeboatError('aborted', `the verify of snapshot ${snapshot.id} was replaced; ask again`);
  }
  try {
    await enqueueVerifyRound(deps, { uid: snapshot.uid, snapshotId: snapshot.id, startedAt, round: 1 });
  } catch (err) {
    // No round will carry the record on: end it, so the next call starts afresh at once.
    await saveRound(deps, snapshot.id, startedAt, 1, (record) => failed(record, err, deps.clock.now()));
    throw err;
  }
  return { report: null, verification: saved.saved };
}

function failed(record: SnapshotVerification, err: unknown, now: number): SnapshotVerification {
  return { ...record, status: 'failed', updatedAt: now, error: { code: codeOf(err), message: messageOf(err).slice(0, 1000) } };
}

/**
 * One round of a verify (`maintenance` task): goes on from the record's cursor until `stopAt`,
 * saves, and enqueues the next round unless done. A round of a verify that was replaced, finished
 * or whose snapshot is gone (retention) does nothing; one that already saved only makes sure the
 * next round is enqueued (its enqueue may have failed). Errors that are not about the data throw
 * (the queue retries) unless a retry cannot help: those end the verify as `failed`.
 */
export async function runVerifyRound(deps: VerifyRoundDeps, task: VerifyRoundTask, stopAt: number, signal?: AbortSignal): Promise<void> {
  const snapshot = await deps.store.getSnapshot(task.snapshotId);
  if (!snapshot || snapshot.uid !== task.uid) {
    deps.logger.info('verify round: the snapshot is gone; the verify ends', { snapshotId: task.snapshotId, round: task.round });
    return;
  }
  const record = snapshot.verification;
  if (!record || record.startedAt !== task.startedAt || record.status !== 'running') return;
  if (record.nextRound === task.round + 1) return enqueueVerifyRound(deps, { ...task, round: task.round + 1 });
  if (record.nextRound !== task.round || !record.cursor) return;

  let run: VerifyRun;
  try {
    run = await verifyPage(deps, snapshot, {
      samplePercent: record.samplePercent,
      stopAt,
      resume: { cursor: record.cursor, report: reportOfRecord(snapshot.id, record) },
      // Once a problem was left out, later ones are only counted: the record keeps a prefix.
      maxProblems: record.problemCount > record.problems.length ? record.problems.length : VERIFY_RECORD_LIMITS.problems,
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if (isRetryable(err) || signal?.aborted) throw err;
    await saveRound(deps, snapshot.id, record.startedAt, task.round, (r) => failed(r, err, deps.clock.now()));
    deps.logger.warn(`verify failed [snapshot=${snapshot.id}, round=${task.round}]: ${messageOf(err)}`);
    return;
  }
  const saved = await saveRound(deps, snapshot.id, record.startedAt, task.round, (r) => recordAfter(r, run, deps.clock.now()));
  if (!('saved' in saved)) return;
  deps.logger.info('verify round done', { snapshotId: snapshot.id, round: task.round, done: run.done, checkedBlobs: run.report.checkedBlobs, problems: run.report.problemCount });
  if (!run.done) await enqueueVerifyRound(deps, { ...task, round: task.round + 1 });
}
