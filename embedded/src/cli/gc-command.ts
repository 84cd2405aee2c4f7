/**
 * `lifeboat gc --uid U`: garbage collection (core/snapshots/gc.ts). Progress counts the objects
 * it reads, lists and deletes through a counting view of the blob store, so the engine needs no
 * progress hook.
 */
import { collectGarbage, hasCode, keepsUploadSessions } from '@lifeboat/engine/core';
import { abortOnSignals } from '../interrupt';
import { ResumableUploads } from '../server/resumable-uploads';
import { systemClock, type BlobStore } from '@lifeboat/engine/ports';
import { flag, requiredOption, stringOption, type CommandHandler } from './command';
import { usageError } from './cli-error';
import type { Progress } from './progress';
import { EXIT } from './spec';

/** The blob store, counting what goes through it onto a progress line. */
function counted(blobs: BlobStore, progress: Progress): BlobStore {
  const seen = { read: 0, listed: 0, deleted: 0 };
  const show = () => progress.update(seen.listed, `listed, ${seen.read} read, ${seen.deleted} deleted`);
  return {
    put: (key, body, options) => blobs.put(key, body, options),
    get: (key, options) => {
      seen.read += 1;
      show();
      return blobs.get(key, options);
    },
    stat: (key, options) => blobs.stat(key, options),
    exists: (key, options) => blobs.exists(key, options),
    delete: async (key, options) => {
      await blobs.delete(key, options);
      seen.deleted += 1;
      show();
    },
    async *list(prefix, options) {
      for await (const info of blobs.list(prefix, options)) {
        seen.listed += 1;
        show();
        yield info;
      }
    },
  };
}

export const gcCommand: CommandHandler = async (input, deps) => {
  const uid = requiredOption(input, 'uid', 'gc');
  const graceHours = Number(stringOption(input, 'grace-hours') ?? 1);
  if (!(graceHours >= 0)) usageError('--grace-hours must be a number >= 0');
  const progress = deps.progress(`gc ${uid}`);
  const { store, blobs, embedded } = deps.data;
  // Ctrl-C aborts the run, which releases its lease, so the user's backups are not held up.
  const report = await abortOnSignals((signal) =>
    collectGarbage({ store, blobs: counted(blobs, progress), keyRing: deps.data.keyRing, clock: systemClock }, uid, {
      graceMs: graceHours * 3_600_000,
      dryRun: flag(input, 'dry-run'),
      signal,
    }),
  ).catch((err: unknown) => {
    if (!hasCode(err, 'cancelled')) throw err;
    return null;
  });
  progress.finish();
  if (!report) {
    // Said on stderr: it is about the run, not its result.
    process.stderr.write('lifeboat: gc interrupted; its lease is released, and the next run carries on\n');
    return { exitCode: EXIT.interrupted, data: { interrupted: true }, text: '' };
  }
  let sweptUploads = 0;
  if (!report.dryRun && embedded) {
    // Partial uploads of jobs that are no longer live (failed, cancelled, gone) go with GC (GCS
    // keeps its own until a session expires: nothing of ours to sweep on Firebase).
    const uploads = new ResumableUploads({ db: embedded.db, blobs, clock: systemClock, partsDir: embedded.uploadsDir, baseUrl: () => '', onComplete: async () => {}, isLiveJob: async (jobId) => keepsUploadSessions(await store.getJob(jobId)) });
    const swept = await uploads.sweep();
    sweptUploads = swept.expired + swept.discarded + swept.orphanParts;
  }
  const sweptText = sweptUploads > 0 ? `removed ${sweptUploads} partial upload(s) no live job owns\n` : '';
  if (report.status === 'deferred') {
    const text = `gc deferred: ${report.deferredBy.map((j) => `${j.jobId} (${j.status})`).join(', ')} may still reuse blobs; try again when they finish\n${sweptText}`;
    return { exitCode: EXIT.ok, data: { ...report, sweptUploads }, text };
  }
  const verb = report.dryRun ? 'would delete' : 'deleted';
  const text =
    `${report.liveSnapshots} snapshot(s), ${report.markedBlobs} referenced blob(s), ${report.scannedBlobs} scanned: ${verb} ` +
    `${report.deletedBlobs} blob(s) (${report.deletedBytes} B), ${report.deletedIndexEntries} chunk-index entr${report.deletedIndexEntries === 1 ? 'y' : 'ies'}, ` +
    `${report.deletedUploads} stale upload(s); kept ${report.youngBlobs} unreferenced blob(s) younger than ${graceHours} h` +
    `${report.stoppedEarly ? ` (stopped early${report.stopReason ? `, ${report.stopReason}` : ''}: run again)` : ''}\n` +
    sweptText;
  return { exitCode: EXIT.ok, data: { ...report, sweptUploads }, text };
};
