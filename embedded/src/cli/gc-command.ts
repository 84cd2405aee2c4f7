/**
 * `lifeboat gc --uid U`: garbage collection (core/snapshots/gc.ts). Progress counts the objects
 * it reads, lists and deletes through a counting view of the blob store, so the engine needs no
 * progress hook.
 */
import { collectGarbage } from '@lifeboat/functions/core';
import { systemClock, type BlobStore } from '@lifeboat/functions/ports';
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
  const report = await collectGarbage(
    { store: deps.data.store, blobs: counted(deps.data.blobs, progress), keyRing: deps.data.keyRing, clock: systemClock },
    uid,
    { graceMs: graceHours * 3_600_000, dryRun: flag(input, 'dry-run') },
  );
  progress.finish();
  if (report.status === 'deferred') {
    const text = `gc deferred: ${report.deferredBy.map((j) => `${j.jobId} (${j.status})`).join(', ')} may still reuse blobs; try again when they finish\n`;
    return { exitCode: EXIT.ok, data: report, text };
  }
  const verb = report.dryRun ? 'would delete' : 'deleted';
  const text =
    `${report.liveSnapshots} snapshot(s), ${report.markedBlobs} referenced blob(s), ${report.scannedBlobs} scanned: ${verb} ` +
    `${report.deletedBlobs} blob(s) (${report.deletedBytes} B), ${report.deletedIndexEntries} chunk-index entr${report.deletedIndexEntries === 1 ? 'y' : 'ies'}, ` +
    `${report.deletedUploads} stale upload(s); kept ${report.youngBlobs} unreferenced blob(s) younger than ${graceHours} h` +
    `${report.stoppedEarly ? ' (stopped early: run again)' : ''}\n`;
  return { exitCode: EXIT.ok, data: report, text };
};
