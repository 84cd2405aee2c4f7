/**
 * The kill test with parallel uploads (embedded/test/kill-resume.test.ts has the one-at-a-time
 * case): small chunks (at most 48 KiB) go up to 4 at once, so several sessions are in flight and
 * in the ledger when the device process is killed with SIGKILL at a random point. A new process
 * calls `resumePending()`; every backup must complete and verify, and the bytes re-sent after
 * each kill must stay within one upload piece (the bytes in flight never pass one piece).
 */
import { sessionsInLedger, useKillHarness } from '../../embedded/test/helpers/kill-device';

const PIECE = 256 * 1024;
const RUNS = 6;
// 600 contacts (about 1.8 MiB in chunks of at most 48 KiB).
const h = useKillHarness({
  name: 'kill-parallel',
  contacts: { count: 600, noteRepeat: 1500 },
  clientOptions: `{ uploadPieceSize: ${PIECE}, maxChunkBytes: 48 * 1024, parallelUploads: 4 }`,
});

describe('kill and resume with parallel uploads', () => {
  it(`${RUNS} parallel backups killed with SIGKILL at random points all complete, verify, and re-send at most one piece`, async () => {
    const figures: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const killed = await h.startAndKill(run);
      const { first } = killed;
      expect(first.signal === 'SIGKILL' || first.code === 0).toBe(true);
      const inFlightAtKill = sessionsInLedger(killed.ledgerDir);
      const second = await h.resume(killed);
      expect(second.err).toBe('');
      expect(second.code).toBe(0);

      const job = await h.finished(killed);
      expect(job.status).toBe('completed');
      const report = await h.verify(job);
      expect(report.ok).toBe(true);
      const resent = h.resent(killed, job);
      figures.push(`run ${run}: killed at ${(killed.killAt * 100).toFixed(0)} % (${first.signal ?? 'finished'}), ${inFlightAtKill} sessions in flight, re-sent ${resent} B, ${report.checkedBlobs} blobs verified`);
      expect(job.progress.bytesUploaded).toBe(job.progress.bytesTotal);
      expect(resent).toBeGreaterThanOrEqual(0);
      expect(resent).toBeLessThanOrEqual(PIECE);
    }
    process.stdout.write(`parallel kill test:\n  ${figures.join('\n  ')}\n`);
  }, 300_000);
});
