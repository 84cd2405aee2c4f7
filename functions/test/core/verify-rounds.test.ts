/**
 * A verify of a whole snapshot as tasks that go on in rounds (issue 9 item 2; docs/invariants.md,
 * "Verify and restore"): the callable checks for a bounded time and answers at once, rounds carry
 * on from the record's cursor and end with the same problems as one run, a repeated round counts
 * nothing twice, and a verify of a deleted snapshot ends. Every blob read moves the fake clock on,
 * so rounds stop by the clock as they would on Cloud Functions.
 */
import { encodeMediaEnvelope } from '../../../client-sdk/src/media-envelope';
import { sha256Hex } from '../../src/core/hash';
import { lifeboatError } from '../../src/core/errors';
import { blobKey } from '../../src/core/keys';
import { runMaintenanceTask, type MaintenanceTaskPayload } from '../../src/core/maintenance';
import { SnapshotVerification, VERIFY_RECORD_LIMITS, type Snapshot } from '../../src/core/model';
import { INLINE_VERIFY_MS, STALE_VERIFY_MS, storedProblems } from '../../src/core/snapshots/verify-rounds';
import { manifestItems } from '../../src/core/snapshots/snapshot-manifest';
import { verifyPage, type VerifyProblem } from '../../src/core/snapshots/verify-snapshot';
import { readAll } from '../../src/ports';
import { craftedSnapshot, GOOD_PARTS } from '../fakes/crafted-snapshot';
import { ContentStore } from '../../src/core/content-store';
import { createHarness, type Harness } from '../fakes/engine-harness';

const UID = 'vera';
/** Clock time each blob read takes: a round (480 s) reads 16 blobs, the callable (20 s) one. */
const READ_MS = 30_000;
const enc = (s: string) => new TextEncoder().encode(s);

interface Piece {
  bytes: Uint8Array;
  /** The blob it is stored as (media is stored as is: the SHA-256 of the body). */
  blob: string;
}

const note = (name: string): Piece => {
  const body = enc(`${name}\n`);
  return { bytes: encodeMediaEnvelope({ sourceId: name, name, mimeType: 'text/plain' }, body), blob: sha256Hex(body) };
};
/** The parts of a file of `count` × 500 bytes; `skip` leaves a part out (its bytes are missing from the file). */
const fileParts = (name: string, count: number, skip?: number): Piece[] => {
  const size = count * 500;
  const file = Uint8Array.from({ length: size }, (_, i) => (i * 31 + name.length) % 251);
  return Array.from({ length: count }, (_, index) => index)
    .filter((index) => index !== skip)
    .map((index) => {
      const body = file.subarray(index * 500, index * 500 + 500);
      return { bytes: encodeMediaEnvelope({ sourceId: name, name, mimeType: 'video/mp4' }, body, { index, offset: index * 500, fileSize: size }), blob: sha256Hex(body) };
    });
};

/** Backs up the pieces as one media chunk each (one manifest segment each), in order. */
async function backup(h: Harness, pieces: Piece[]): Promise<Snapshot> {
  const { job } = await h.call('createBackupJob', UID, { deviceId: 'phone', types: ['media'], options: { wifiOnly: false } });
  const chunks = pieces.map((p) => ({ id: sha256Hex(p.bytes), type: 'media' as const, size: p.bytes.byteLength, items: 1 }));
  await h.call('registerChunks', UID, { jobId: job.id, chunks });
  for (const p of pieces) {
    const { uploadUrl } = await h.call('beginChunkUpload', UID, { jobId: job.id, chunkId: sha256Hex(p.bytes) });
    if (uploadUrl) await h.upload(uploadUrl, p.bytes);
  }
  await h.call('commitUpload', UID, { jobId: job.id, chunkCount: chunks.length });
  await h.drain();
  const done = await h.store.getJob(job.id);
  expect(done?.status).toBe('completed');
  return (await h.store.getSnapshot(done?.snapshotId as string)) as Snapshot;
}

/**
 * Notes, a file with a part missing and a good one (each six segments long: a snapshot lists the
 * parts of large files after the other media). Damage in the first segment (a note's blob
 * deleted) and in the last (the good file's last part corrupted).
 */
function damagedLibrary(): { pieces: Piece[]; missing: string; corrupt: string } {
  const first = note('first.txt');
  const long = fileParts('Movies/long.mp4', 6);
  const pieces = [first, ...['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((n) => note(`${n}.txt`)), ...fileParts('Movies/broken.mp4', 7, 3), ...long];
  return { pieces, missing: first.blob, corrupt: (long.at(-1) as Piece).blob };
}

async function damage(h: Harness, missing: string, corrupt: string): Promise<void> {
  await h.blobs.delete(blobKey(UID, missing));
  const bytes = new Uint8Array(await readAll(await h.blobs.get(blobKey(UID, corrupt))));
  bytes[bytes.length - 2] = (bytes[bytes.length - 2] ?? 0) ^ 0xff;
  await h.blobs.put(blobKey(UID, corrupt), bytes);
}

/** Every blob read takes {@link READ_MS} of the clock from now on; returns the count of reads. */
function slowReads(h: Harness): { reads: number } {
  const counter = { reads: 0 };
  const get = h.blobs.get.bind(h.blobs);
  h.blobs.get = async (key, options) => {
    counter.reads += 1;
    h.clock.advance(READ_MS);
    return get(key, options);
  };
  return counter;
}

async function record(h: Harness, snapshotId: string): Promise<SnapshotVerification> {
  const verification = (await h.store.getSnapshot(snapshotId))?.verification;
  if (!verification) throw new Error('no verify record');
  return SnapshotVerification.parse(verification);
}

/** Runs the queued maintenance tasks one at a time, returning the records each left. */
async function runRounds(h: Harness, snapshotId: string): Promise<SnapshotVerification[]> {
  const records: SnapshotVerification[] = [];
  for (let task = h.queue.pending.shift(); task; task = h.queue.pending.shift()) {
    expect(task.queue).toBe('maintenance');
    await runMaintenanceTask(h.deps, task.payload as MaintenanceTaskPayload);
    records.push(await record(h, snapshotId));
    if (records.length > 50) throw new Error('the verify does not end');
  }
  return records;
}

const summary = (problems: ReadonlyArray<Pick<VerifyProblem, 'kind' | 'blob' | 'items' | 'message'>>) => problems.map((p) => ({ kind: p.kind, blob: p.blob, items: p.items, message: p.message }));

describe('verify in rounds', () => {
  it('the callable answers within its budget, and the rounds end with the problems of one run', async () => {
    const h = createHarness();
    const { pieces, missing, corrupt } = damagedLibrary();
    const snapshot = await backup(h, pieces);
    await damage(h, missing, corrupt);
    const whole = await verifyPage(h.deps, snapshot);
    const order: string[] = [];
    for await (const item of manifestItems(new ContentStore(h.blobs), snapshot)) order.push(item.sourceId);
    expect([order[0], order.at(-1)]).toEqual(['first.txt', 'Movies/long.mp4']);
    expect(whole.done).toBe(true);
    expect(whole.report.problems.map((p) => [p.kind, p.items[0]?.sourceId])).toEqual([
      ['missing-blob', 'first.txt'],
      ['bad-segments', 'Movies/broken.mp4'],
      ['corrupt-blob', 'Movies/long.mp4'],
    ]);

    const counter = slowReads(h);
    await verifyPage(h.deps, snapshot);
    const wholeReads = counter.reads;
    counter.reads = 0;
    const before = h.clock.now();
    const answer = await h.call('verifySnapshot', UID, { snapshotId: snapshot.id });
    // The callable stopped at its budget once it had checked a blob. Before that it read the
    // manifest's root, its tree's nodes (three leaves, read ahead at once: the fake clock counts
    // them one after another) and the first segment.
    expect(h.clock.now() - before).toBeLessThanOrEqual(INLINE_VERIFY_MS + 7 * READ_MS);
    expect(counter.reads).toBeLessThan(wholeReads / 4);
    expect(answer.report).toBeNull();
    if (answer.report !== null) return;
    expect(answer.verification).toMatchObject({ status: 'running', nextRound: 1, samplePercent: 100 });
    expect(answer.verification.cursor).not.toBeNull();
    expect(await record(h, snapshot.id)).toEqual(answer.verification);
    expect(h.queue.pending.map((t) => t.id)).toEqual([`verify_${snapshot.id}_${answer.verification.startedAt}_1`]);

    const rounds = await runRounds(h, snapshot.id);
    expect(rounds.length).toBeGreaterThanOrEqual(3);
    // A round boundary fell inside a file's parts: they went from round to round in the cursor.
    expect(rounds.some((r) => (r.cursor?.file?.parts.length ?? 0) > 0)).toBe(true);
    // Progress only grows.
    for (let i = 1; i < rounds.length; i++) expect((rounds[i] as SnapshotVerification).checkedSegments).toBeGreaterThanOrEqual((rounds[i - 1] as SnapshotVerification).checkedSegments);
    const done = rounds.at(-1) as SnapshotVerification;
    expect(done).toMatchObject({ status: 'done', cursor: null, problemCount: 3, checkedItems: whole.report.checkedItems, checkedSegments: pieces.length, totalSegments: pieces.length });
    expect(summary(done.problems)).toEqual(summary(whole.report.problems));
    const after = await h.store.getSnapshot(snapshot.id);
    // health is dated by its write (the last round's save), the time a later backup's baseline rule counts from.
    expect(after?.health).toEqual({ checkedAt: done.updatedAt, ok: false, checkedBlobs: done.checkedBlobs, problems: 3 });
  });

  it('a round delivered twice, or twice at once, counts nothing twice', async () => {
    const h = createHarness();
    const { pieces, missing, corrupt } = damagedLibrary();
    const snapshot = await backup(h, pieces);
    await damage(h, missing, corrupt);
    const whole = await verifyPage(h.deps, snapshot);
    slowReads(h);
    await h.call('verifySnapshot', UID, { snapshotId: snapshot.id });
    const roundOne = h.queue.pending.shift();
    if (!roundOne) throw new Error('no round enqueued');
    const payload = roundOne.payload as MaintenanceTaskPayload;
    await Promise.all([runMaintenanceTask(h.deps, payload), runMaintenanceTask(h.deps, payload)]);
    const once = await record(h, snapshot.id);
    expect(once.nextRound).toBe(2);
    // Redelivered after it saved: it only makes sure round 2 is enqueued (the queue has it once).
    await runMaintenanceTask(h.deps, payload);
    expect(await record(h, snapshot.id)).toEqual(once);
    expect(h.queue.pending.map((t) => t.id)).toEqual([`verify_${snapshot.id}_${once.startedAt}_2`]);

    const done = (await runRounds(h, snapshot.id)).at(-1) as SnapshotVerification;
    expect(done).toMatchObject({ status: 'done', problemCount: whole.report.problemCount, checkedItems: whole.report.checkedItems });
    expect(summary(done.problems)).toEqual(summary(whole.report.problems));
    // A round of a finished verify does nothing.
    await runMaintenanceTask(h.deps, payload);
    expect(h.queue.pending).toEqual([]);
  });

  it('a second call while a verify runs gets its record; once done, a call starts a new one', async () => {
    const h = createHarness();
    const snapshot = await backup(h, damagedLibrary().pieces);
    slowReads(h);
    const first = await h.call('verifySnapshot', UID, { snapshotId: snapshot.id });
    if (first.report !== null) throw new Error('expected a running verify');
    const second = await h.call('verifySnapshot', UID, { snapshotId: snapshot.id, samplePercent: 10 });
    expect(second).toEqual({ report: null, verification: first.verification });
    expect(h.queue.pending).toHaveLength(1);
    await runRounds(h, snapshot.id);
    const done = await record(h, snapshot.id);
    // The broken file is the one problem of the undamaged library.
    expect(done).toMatchObject({ status: 'done', problemCount: 1 });

    const third = await h.call('verifySnapshot', UID, { snapshotId: snapshot.id, samplePercent: 10 });
    if (third.report !== null) throw new Error('expected a running verify');
    expect(third.verification.startedAt).toBeGreaterThan(done.startedAt);
    expect(third.verification.samplePercent).toBe(10);
    const sampled = (await runRounds(h, snapshot.id)).at(-1) as SnapshotVerification;
    // A sampled verify goes in rounds the same way: every segment walked, a share of the blobs read.
    expect(sampled).toMatchObject({ status: 'done', checkedSegments: sampled.totalSegments });
    expect(sampled.checkedBlobs).toBeGreaterThanOrEqual(1);
    expect(sampled.checkedBlobs).toBeLessThan(sampled.totalBlobs);
  });

  it('a verify whose rounds stopped is taken over once its record is stale', async () => {
    const h = createHarness();
    const snapshot = await backup(h, damagedLibrary().pieces);
    slowReads(h);
    const first = await h.call('verifySnapshot', UID, { snapshotId: snapshot.id });
    if (first.report !== null) throw new Error('expected a running verify');
    const lost = h.queue.pending.shift();
    if (!lost) throw new Error('no round enqueued');
    h.clock.advance(STALE_VERIFY_MS);
    const again = await h.call('verifySnapshot', UID, { snapshotId: snapshot.id });
    if (again.report !== null) throw new Error('expected a running verify');
    expect(again.verification.startedAt).toBeGreaterThan(first.verification.startedAt);
    // The old chain's round finds its verify replaced and does nothing.
    await runMaintenanceTask(h.deps, lost.payload as MaintenanceTaskPayload);
    expect(await record(h, snapshot.id)).toEqual(again.verification);
    expect((await runRounds(h, snapshot.id)).at(-1)).toMatchObject({ status: 'done', startedAt: again.verification.startedAt });
  });

  it('a verify whose snapshot is deleted (retention) ends quietly', async () => {
    const h = createHarness();
    const snapshot = await backup(h, damagedLibrary().pieces);
    slowReads(h);
    const answer = await h.call('verifySnapshot', UID, { snapshotId: snapshot.id });
    expect(answer.report).toBeNull();
    await h.store.runTransaction(async (tx) => tx.deleteSnapshot(snapshot.id));
    await h.drain();
    expect(h.queue.log.filter((l) => l.startsWith('maintenance:'))).toEqual([expect.stringMatching(/#0 -> ok$/)]);
    expect(await h.store.getSnapshot(snapshot.id)).toBeNull();
  });

  it('a format-1 manifest is checked in one go, and a small snapshot answers with its report', async () => {
    const h = createHarness();
    const crafted = await craftedSnapshot(new ContentStore(h.blobs), UID, { 'Movies/x.mov': GOOD_PARTS }, { store: h.store });
    slowReads(h);
    const answer = await h.call('verifySnapshot', UID, { snapshotId: crafted.id });
    expect(answer.report).toMatchObject({ ok: true, problems: [], problemCount: 0, checkedItems: 5 });
    expect(h.queue.pending).toEqual([]);
    expect((await h.store.getSnapshot(crafted.id))?.verification).toMatchObject({ status: 'done', nextRound: 1, checkedSegments: 1, totalSegments: 1 });
  });
});

describe('verify record limits', () => {
  it('keeps the first problems, each with its first items, within the byte budget', () => {
    const problem = (i: number, items: number, message = `problem ${i}`): VerifyProblem => ({
      kind: 'missing-blob',
      blob: sha256Hex(enc(String(i))),
      items: Array.from({ length: items }, (_, j) => ({ type: 'contacts' as const, sourceId: `c${i}-${j}` })),
      message,
    });
    const many = storedProblems(Array.from({ length: 150 }, (_, i) => problem(i, i === 0 ? 500 : 1)));
    expect(many).toHaveLength(VERIFY_RECORD_LIMITS.problems);
    expect(many[0]?.items).toHaveLength(VERIFY_RECORD_LIMITS.itemsPerProblem);
    expect(many[0]?.itemCount).toBe(500);
    expect(many[1]?.itemCount).toBeUndefined();
    expect(many.map((p) => p.message)).toEqual(Array.from({ length: 100 }, (_, i) => `problem ${i}`));

    const long = storedProblems(Array.from({ length: 60 }, (_, i) => problem(i, 1, 'x'.repeat(10_000))));
    expect(long.length).toBeLessThan(60);
    expect(new TextEncoder().encode(JSON.stringify(long)).byteLength).toBeLessThanOrEqual(VERIFY_RECORD_LIMITS.problemBytes);
    expect(long.map((p) => p.blob)).toEqual(Array.from({ length: long.length }, (_, i) => sha256Hex(enc(String(i)))));
  });
});

describe('verify rounds and errors', () => {
  it('a round that meets a passing storage error is retried; one a retry cannot fix ends the verify as failed', async () => {
    const h = createHarness();
    const snapshot = await backup(h, damagedLibrary().pieces);
    const whole = await verifyPage(h.deps, snapshot);
    slowReads(h);
    const first = await h.call('verifySnapshot', UID, { snapshotId: snapshot.id });
    if (first.report !== null) throw new Error('expected a running verify');
    const get = h.blobs.get.bind(h.blobs);
    let failures = 1;
    h.blobs.get = async (key, options) => {
      if (failures-- > 0) throw lifeboatError('unavailable', 'storage is down');
      return get(key, options);
    };
    await h.drain();
    expect(h.queue.log.filter((l) => l.startsWith('maintenance:verify_')).slice(0, 2)).toEqual([expect.stringMatching(/_1#0 -> unavailable$/), expect.stringMatching(/_1#1 -> ok$/)]);
    const firstDone = await record(h, snapshot.id);
    expect(firstDone).toMatchObject({ status: 'done', problemCount: whole.report.problemCount, checkedItems: whole.report.checkedItems });

    const second = await h.call('verifySnapshot', UID, { snapshotId: snapshot.id });
    if (second.report !== null) throw new Error('expected a running verify');
    h.blobs.get = async () => {
      throw lifeboatError('failed-precondition', 'no master key is configured');
    };
    await h.drain();
    const failed = await record(h, snapshot.id);
    expect(failed).toMatchObject({ status: 'failed', startedAt: second.verification.startedAt, error: { code: 'failed-precondition', message: expect.stringContaining('no master key is configured') } });
    // The health of the last verify that finished stays; a new call starts afresh.
    expect((await h.store.getSnapshot(snapshot.id))?.health).toMatchObject({ checkedAt: firstDone?.updatedAt });
    h.blobs.get = get;
    const third = await h.call('verifySnapshot', UID, { snapshotId: snapshot.id });
    expect(third.report === null ? third.verification.startedAt : 0).toBeGreaterThan(failed.startedAt);
  });
});
