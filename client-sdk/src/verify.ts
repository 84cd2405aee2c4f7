/**
 * `client.verifySnapshot`: has the server re-read a snapshot. A small snapshot is checked within
 * the call; a large one the server checks in rounds (tasks, docs/protocol.md), answering at once
 * with the verify's record, which this polls on the snapshot (`getSnapshot`) until it is done and
 * turns into the report.
 */
import type { ApiCall } from './callable';
import { abortedError, BackupClientError, BACKUP_ERROR_CODES, type BackupErrorCode } from './errors';
import { reportOfRecord } from './protocol';
import type { SnapshotVerification, VerifyProgress, VerifyReport } from './types';

export interface VerifySnapshotOptions {
  /** Share of blobs to read, 1..100. @default 100 */
  samplePercent?: number;
  /** Progress of a verify the server runs in rounds, at every poll. @default none */
  onProgress?: (progress: VerifyProgress) => void;
  /** Stops waiting (`backup/aborted`); the server's verify goes on, and a later call joins it. */
  signal?: AbortSignal;
  /** How often the record is read while the server verifies in rounds. @default 3000 */
  pollIntervalMs?: number;
}

/**
 * A running record that has not changed for this long, by the device's clock, belongs to rounds
 * that died: asking again makes the server start over (it does once the record is 30 minutes old
 * by its own clock; until then it answers with the same record, and polling goes on).
 */
const STALE_AFTER_MS = 31 * 60_000;

export interface VerifyCalls {
  call: ApiCall;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  now(): number;
}

function failure(snapshotId: string, record: SnapshotVerification): BackupClientError {
  const code = `backup/${record.error?.code ?? 'internal'}`;
  const known = (BACKUP_ERROR_CODES as readonly string[]).includes(code) ? (code as BackupErrorCode) : 'backup/internal';
  return new BackupClientError(known, `the verify of snapshot ${snapshotId} failed: ${record.error?.message ?? 'no reason recorded'}`);
}

export async function verifySnapshot(calls: VerifyCalls, snapshotId: string, options: VerifySnapshotOptions = {}): Promise<VerifyReport> {
  const input = { snapshotId, ...(options.samplePercent !== undefined ? { samplePercent: options.samplePercent } : {}) };
  const ask = () => calls.call('verifySnapshot', input, options.signal);
  const interval = options.pollIntervalMs ?? 3000;
  let answer = await ask();
  for (;;) {
    // A report from a server before verify records (no `problemCount`) is completed by the protocol's parse.
    if (answer.report) return answer.report;
    let record = answer.verification;
    // The record the device last saw change, and when (by its own clock).
    let changed = { startedAt: record.startedAt, updatedAt: record.updatedAt, at: calls.now() };
    let again = false;
    while (!again) {
      options.onProgress?.({ checkedBlobs: record.checkedBlobs, totalBlobs: record.totalBlobs, checkedSegments: record.checkedSegments, totalSegments: record.totalSegments });
      // Whichever verify the record holds now is the answer: a call while one runs joins it.
      if (record.status === 'done') return reportOfRecord(snapshotId, record);
      if (record.status === 'failed') throw failure(snapshotId, record);
      if (options.signal?.aborted) throw abortedError();
      try {
        await calls.sleep(interval, options.signal);
      } catch {
        throw abortedError();
      }
      const { snapshot } = await calls.call('getSnapshot', { snapshotId }, options.signal);
      const next = snapshot.verification;
      if (!next) throw new BackupClientError('backup/internal', `snapshot ${snapshotId} lost its verify record`);
      if (next.startedAt !== changed.startedAt || next.updatedAt !== changed.updatedAt) {
        changed = { startedAt: next.startedAt, updatedAt: next.updatedAt, at: calls.now() };
      } else if (calls.now() - changed.at >= STALE_AFTER_MS) {
        again = true;
      }
      record = next;
    }
    answer = await ask();
  }
}
