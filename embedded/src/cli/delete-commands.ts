/**
 * `lifeboat delete-user --uid U` and `lifeboat delete-snapshot SNAPSHOT`: an admin deletes all of a
 * user's data (erasure requests, account deletion) or one snapshot (core/deletion). Both are
 * idempotent and can be interrupted (Ctrl-C) and run again: a deletion carries on from what is
 * left.
 */
import { BlobDeviceRegistry, DELETION_SETTLE_MS, deleteUserData, deleteUserSnapshot, hasCode, type DeletionReport } from '@lifeboat/engine/core';
import { silentLogger, systemClock } from '@lifeboat/engine/ports';
import { abortOnSignals } from '../interrupt';
import { ResumableUploads } from '../server/resumable-uploads';
import { usageError } from './cli-error';
import { flag, requiredOption, stringOption, type CommandHandler } from './command';
import { snapshotArg } from './snapshot-arg';
import { EXIT } from './spec';

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

function deletionText(report: DeletionReport): string {
  const r = report.removed;
  const removed = `${r.jobsCancelled} job(s) cancelled; removed ${r.documents} document(s), ${r.objects} object(s), ${r.devices} device registration(s), ${r.uploadSessions} upload session(s)`;
  switch (report.status) {
    case 'done':
      return `deleted all data of ${report.uid}: ${removed}\n`;
    case 'reclaimed':
      return `all data of ${report.uid} is deleted and unreadable (data key destroyed ${iso(report.keyDestroyedAt)}): ${removed}\n` +
        `its deletion record stays until ${iso(report.settlesAt)}, refusing new backups while steps that were running may still write;\n` +
        'the server removes it then, or run delete-user again after that time\n';
    default:
      return `deleting ${report.uid}: stopped before the end (${removed}); run delete-user again to carry on\n`;
  }
}

export const deleteUserCommand: CommandHandler = async (input, deps) => {
  const uid = requiredOption(input, 'uid', 'delete-user');
  if (!flag(input, 'yes')) usageError(`delete-user deletes every backup of ${uid} and cannot be undone: add --yes`);
  const settleRaw = stringOption(input, 'settle-minutes');
  const settleMinutes = settleRaw === undefined ? DELETION_SETTLE_MS / 60_000 : Number(settleRaw);
  if (!(settleMinutes >= 0)) usageError('--settle-minutes must be a number >= 0');
  const { store, blobs, embedded } = deps.data;
  // A deployment deletes a user's data itself: deleting their Firebase Auth account runs
  // onAccountDeleted, and the app can call deleteMyData as the user.
  if (!embedded) usageError('delete-user works on an embedded data folder; on a deployment delete the user\'s Firebase Auth account (onAccountDeleted deletes their data) or call deleteMyData as the user');
  const { db, uploadsDir } = embedded;
  const progress = deps.progress(`delete ${uid}`);
  const uploads = new ResumableUploads({ db, blobs, clock: systemClock, partsDir: uploadsDir, baseUrl: () => '', onComplete: async () => {} });
  const report = await abortOnSignals((signal) =>
    deleteUserData({ store, blobs, uploads, keyRing: deps.data.keyRing, devices: new BlobDeviceRegistry(blobs), clock: systemClock, logger: silentLogger }, uid, {
      reason: 'admin',
      settleMs: settleMinutes * 60_000,
      signal,
      onProgress: (r) => progress.update(r.removed.documents + r.removed.objects, 'removed'),
    }),
  ).catch((err: unknown) => {
    if (!hasCode(err, 'cancelled')) throw err;
    return null;
  });
  progress.finish();
  if (!report) {
    process.stderr.write(`lifeboat: delete-user interrupted; run it again to carry on (the user's data key is destroyed once it got that far)\n`);
    return { exitCode: EXIT.interrupted, data: { interrupted: true }, text: '' };
  }
  return { exitCode: EXIT.ok, data: report, text: deletionText(report) };
};

export const deleteSnapshotCommand: CommandHandler = async (input, deps) => {
  const snapshot = await snapshotArg(input, deps);
  const graceHours = Number(stringOption(input, 'grace-hours') ?? 1);
  if (!(graceHours >= 0)) usageError('--grace-hours must be a number >= 0');
  const result = await deleteUserSnapshot({ store: deps.data.store, blobs: deps.data.blobs, keyRing: deps.data.keyRing, clock: systemClock, logger: silentLogger }, snapshot.uid, snapshot.id, {
    graceMs: graceHours * 3_600_000,
    skipGc: flag(input, 'no-gc'),
  });
  const gc = result.gc;
  const gcText =
    'deletedBlobs' in gc
      ? gc.status === 'deferred'
        ? 'garbage collection deferred (a backup of the user is under way): its data is freed by a later run'
        : `garbage collection freed ${gc.deletedBlobs} blob(s) (${gc.deletedBytes} B)${gc.youngBlobs > 0 ? `; ${gc.youngBlobs} younger than ${graceHours} h go at a later run` : ''}`
      : `garbage collection ${gc.status}: ${gc.reason}`;
  return { exitCode: EXIT.ok, data: result, text: `deleted snapshot ${snapshot.id} of ${snapshot.uid}; ${gcText}\n` };
};
