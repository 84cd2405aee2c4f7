/**
 * The kill test: a device process backs up against the embedded server and is killed with
 * SIGKILL at a random point; a new process calls `resumePending()`. Every backup must complete,
 * its snapshot must verify, and the bytes re-sent after each kill must be at most one upload
 * piece. The server counts every body byte that reaches it, so re-sent bytes are measured.
 */
import { useKillHarness } from './helpers/kill-device';

const PIECE = 256 * 1024;
const RUNS = 10;
// 1200 contacts (about 7 MiB), so chunks fill 1 MiB and span 4 pieces.
const h = useKillHarness({ name: 'kill', contacts: { count: 1200, noteRepeat: 3000 }, clientOptions: `{ uploadPieceSize: ${PIECE}, maxChunkBytes: 1024 * 1024 }` });

describe('kill and resume', () => {
  it(`${RUNS} backups killed with SIGKILL at random points all complete, verify, and re-send at most one piece`, async () => {
    const figures: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const killed = await h.startAndKill(run);
      const { first } = killed;
      expect(first.signal === 'SIGKILL' || first.code === 0).toBe(true);
      const second = await h.resume(killed);
      expect(second.err).toBe('');
      expect(second.code).toBe(0);

      const job = await h.finished(killed);
      expect(job.status).toBe('completed');
      const report = await h.verify(job);
      expect(report.ok).toBe(true);
      const resent = h.resent(killed, job);
      figures.push(`run ${run}: killed at ${(killed.killAt * 100).toFixed(0)} % (${first.signal ?? 'finished'}), re-sent ${resent} B, ${report.checkedBlobs} blobs verified`);
      expect(job.progress.bytesUploaded).toBe(job.progress.bytesTotal);
      expect(resent).toBeGreaterThanOrEqual(0);
      expect(resent).toBeLessThanOrEqual(PIECE);
    }
    process.stdout.write(`kill test:\n  ${figures.join('\n  ')}\n`);
  }, 300_000);
});
