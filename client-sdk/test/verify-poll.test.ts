/**
 * The SDK's side of a verify the server runs in rounds (client-sdk/src/verify.ts), against a
 * scripted server: polling to the report, a failed verify as a typed error, a record that stops
 * moving asked for again, and an abort while waiting.
 */
import { parseAnswer } from '../src/callable';
import { BackupClientError } from '../src/errors';
import type { SnapshotVerification, VerifyReport } from '../src/types';
import { verifySnapshot, type VerifyCalls } from '../src/verify';

const record = (over: Partial<SnapshotVerification> = {}): SnapshotVerification => ({
  status: 'running',
  samplePercent: 100,
  startedAt: 1000,
  updatedAt: 1000,
  nextRound: 1,
  cursor: { type: 0, segment: 3, blob: 0, file: null },
  checkedBlobs: 3,
  totalBlobs: 3,
  checkedItems: 3,
  checkedSegments: 3,
  totalSegments: 10,
  problems: [],
  problemCount: 0,
  ...over,
});

/** Answers `verifySnapshot` and `getSnapshot` from scripts; the clock moves on with every sleep. */
function scripted(verifies: Array<{ report: VerifyReport | null; verification?: SnapshotVerification }>, records: SnapshotVerification[]) {
  const log: string[] = [];
  let now = 0;
  const calls: VerifyCalls = {
    async call<T>(name: string, data: unknown): Promise<T> {
      log.push(name);
      // Parsed as the transport parses it (the protocol completes a report from an older server).
      if (name === 'verifySnapshot') return parseAnswer('verifySnapshot', verifies.shift()) as T;
      expect(data).toEqual({ snapshotId: 'snap_1' });
      const next = records.length > 1 ? records.shift() : records[0];
      return { snapshot: { id: 'snap_1', verification: next } } as T;
    },
    async sleep(ms, signal) {
      if (signal?.aborted) throw new Error('aborted');
      now += ms;
    },
    now: () => now,
  };
  return { calls, log };
}

describe('verifySnapshot polling', () => {
  it('polls a running record to the report, with progress', async () => {
    const problem = { kind: 'missing-blob' as const, blob: 'b'.repeat(64), items: [{ type: 'media' as const, sourceId: 'x' }], itemCount: 40, message: 'gone' };
    const { calls, log } = scripted(
      [{ report: null, verification: record() }],
      [record({ updatedAt: 2000, checkedSegments: 6 }), record({ status: 'done', updatedAt: 3000, cursor: null, checkedSegments: 10, checkedBlobs: 10, totalBlobs: 10, checkedItems: 50, problems: [problem], problemCount: 130 })],
    );
    const progress: number[] = [];
    const report = await verifySnapshot(calls, 'snap_1', { onProgress: (p) => progress.push(p.checkedSegments) });
    expect(report).toEqual({ snapshotId: 'snap_1', ok: false, checkedAt: 1000, totalBlobs: 10, checkedBlobs: 10, checkedItems: 50, problems: [problem], problemCount: 130 });
    expect(progress).toEqual([3, 6, 10]);
    expect(log).toEqual(['verifySnapshot', 'getSnapshot', 'getSnapshot']);
  });

  it('a report answered at once is returned as is (problemCount filled in for older servers)', async () => {
    const report = { snapshotId: 'snap_1', ok: true, checkedAt: 5, totalBlobs: 1, checkedBlobs: 1, checkedItems: 1, problems: [] } as unknown as VerifyReport;
    const { calls } = scripted([{ report }], []);
    await expect(verifySnapshot(calls, 'snap_1')).resolves.toEqual({ ...report, problemCount: 0 });
  });

  it('a failed verify rejects with its code', async () => {
    const { calls } = scripted([{ report: null, verification: record() }], [record({ status: 'failed', updatedAt: 2000, error: { code: 'failed-precondition', message: 'no master key' } })]);
    const err = await verifySnapshot(calls, 'snap_1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackupClientError);
    expect(err).toMatchObject({ code: 'backup/failed-precondition', message: expect.stringContaining('no master key') });
  });

  it('asks again when the record stops moving, and follows the verify the server starts', async () => {
    const { calls, log } = scripted(
      [{ report: null, verification: record() }, { report: null, verification: record({ startedAt: 9_000_000, updatedAt: 9_000_000 }) }],
      [record(), record()],
    );
    // Once asked again, the server's new verify is what the snapshot shows, and it ends.
    const done = record({ status: 'done', startedAt: 9_000_000, updatedAt: 9_500_000, cursor: null });
    const inner = calls.call.bind(calls);
    calls.call = async <T,>(name: string, data: unknown): Promise<T> => {
      if (name === 'getSnapshot' && log.filter((l) => l === 'verifySnapshot').length === 2) return { snapshot: { id: 'snap_1', verification: done } } as T;
      return (inner as (n: string, d: unknown) => Promise<T>)(name, data);
    };
    const report = await verifySnapshot(calls, 'snap_1', { pollIntervalMs: 60_000 });
    expect(report.checkedAt).toBe(9_000_000);
    // 31 minutes of polls at one a minute, then the second ask.
    expect(log.filter((l) => l === 'getSnapshot').length).toBeGreaterThanOrEqual(31);
    expect(log.filter((l) => l === 'verifySnapshot')).toHaveLength(2);
  });

  it('an abort while waiting rejects with backup/aborted', async () => {
    const controller = new AbortController();
    const { calls } = scripted([{ report: null, verification: record() }], [record({ updatedAt: 2000 })]);
    const waiting = verifySnapshot(calls, 'snap_1', { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(waiting).rejects.toMatchObject({ code: 'backup/aborted' });
  });
});
