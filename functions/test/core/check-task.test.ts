/**
 * `check` as a `maintenance` task (issue 14): a request saves a `queued` record and enqueues one
 * task named by the user and the request (asked again while it is live, nothing is doubled); the
 * task runs the check through the real queue definitions and keeps a bounded record; a repair run
 * followed by a backup heals a lost chunk result; a check out of time, a transient failure and a
 * superseded task each leave the record saying so.
 */
import { readAll, type BlobStore, type CallOptions } from '../../src/ports';
import { lifeboatError } from '../../src/core/errors';
import { sha256Hex } from '../../src/core/hash';
import { blobKey, chunkIndexKey } from '../../src/core/keys';
import { MaintenanceTaskPayload } from '../../src/core/maintenance';
import { BackupOptions, type Snapshot } from '../../src/core/model';
import type { CheckProblem, UserCheckReport } from '../../src/core/snapshots/check-report';
import {
  CHECK_RECORD_LIMITS, CheckRecord, checkRecordKey, checkResultOf, checkTaskId, readCheckRecord, requestCheck, runCheckTask, STALE_CHECK_MS, type CheckTaskPayload,
} from '../../src/core/snapshots/check-task';
import { STRATEGIES } from '../../src/strategies';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';
import { MemoryBlobStore } from '../fakes/memory-blob-store';

const UID = 'kim';
const MINUTE = 60_000;
const C1 = contactsChunk(['c1', 'c2', 'c3']);
const C2 = contactsChunk(['c4']);

async function backup(h: Harness, chunks: Uint8Array[]): Promise<Snapshot> {
  h.clock.advance(2 * MINUTE);
  const { job } = await h.call('createBackupJob', UID, { deviceId: 'phone-1', types: ['contacts'] });
  await h.drain();
  const described = chunks.map((bytes) => describeChunk('contacts', bytes, new TextDecoder().decode(bytes).trim().split('\n').length));
  const { missing } = await h.call('registerChunks', UID, { jobId: job.id, chunks: described });
  for (const bytes of chunks) {
    const id = sha256Hex(bytes);
    if (!missing.includes(id)) continue;
    const { uploadUrl } = await h.call('beginChunkUpload', UID, { jobId: job.id, chunkId: id });
    await h.upload(uploadUrl as string, bytes);
  }
  await h.call('commitUpload', UID, { jobId: job.id, chunkCount: chunks.length });
  await h.drain();
  const done = await h.store.getJob(job.id);
  expect([done?.status, done?.lastError?.message]).toEqual(['completed', undefined]);
  return (await h.store.getSnapshot(done?.snapshotId as string)) as Snapshot;
}

async function setup(blobs?: (inner: MemoryBlobStore) => BlobStore) {
  let h: Harness | undefined;
  const memory = new MemoryBlobStore({ now: () => h?.clock.now() ?? 0 });
  h = createHarness({ blobs: blobs ? blobs(memory) : memory });
  const s1 = await backup(h, [C1]);
  const s2 = await backup(h, [C1, C2]);
  return { h, s1, s2 };
}

const C1_KEY = chunkIndexKey('contacts', (STRATEGIES.contacts as { strategyKey(o: BackupOptions): string }).strategyKey(BackupOptions.parse({})), sha256Hex(C1));
const record = async (h: Harness) => readCheckRecord(h.deps, UID);
const ask = (h: Harness, repair = false, readDataPercent?: number) => requestCheck(h.deps, { uid: UID, repair, actor: 'ops-admin', ...(readDataPercent !== undefined ? { readDataPercent } : {}) });
const checkTasks = (h: Harness) => h.queue.pending.filter((t) => t.queue === 'maintenance' && (t.payload as { kind?: string }).kind === 'check');

describe('a check task', () => {
  it('is enqueued once per request, and asked again while live answers with the same record', async () => {
    const { h } = await setup();
    const first = await ask(h, false, 10);
    expect(first).toMatchObject({ started: true, record: { uid: UID, status: 'queued', repair: false, readDataPercent: 10, actor: 'ops-admin', result: null } });
    const tasks = checkTasks(h);
    expect(tasks.map((t) => [t.id, t.payload])).toEqual([[checkTaskId(UID, first.record.requestedAt), { kind: 'check', uid: UID, readDataPercent: 10, repair: false, requestedAt: first.record.requestedAt, actor: 'ops-admin' }]]);
    expect(MaintenanceTaskPayload.parse(tasks[0]?.payload)).toMatchObject({ kind: 'check' });

    h.clock.advance(1000);
    const again = await ask(h, true);
    expect(again).toEqual({ started: false, record: first.record });
    expect(checkTasks(h)).toHaveLength(1);
    // The same request enqueued again (a retried enqueue) is the same task.
    expect(await h.deps.queue.enqueue('maintenance', tasks[0]?.payload as CheckTaskPayload, { id: tasks[0]?.id as string })).toEqual({ enqueued: false });

    await h.drain();
    const done = await record(h);
    expect(done).toMatchObject({ status: 'done', requestedAt: first.record.requestedAt, error: null, progress: null, result: { ok: true, snapshots: 2, indexEntries: 2, problemCount: 0, remaining: 0, byKind: {}, problems: [], repair: null } });
    expect(done?.result?.contentRead).toBeGreaterThan(0);

    // The task delivered again does nothing: the record is untouched.
    h.clock.advance(1000);
    await h.definitions.find((d) => d.name === 'maintenance')?.handler(tasks[0]?.payload as CheckTaskPayload, { queue: 'maintenance', taskId: tasks[0]?.id as string, retryCount: 0 });
    expect(await record(h)).toEqual(done);

    // A new request once the last one ended: a new task.
    const next = await ask(h);
    expect(next.started).toBe(true);
    expect(next.record.requestedAt).toBeGreaterThan(first.record.requestedAt);
    expect(checkTasks(h).map((t) => t.id)).toEqual([checkTaskId(UID, next.record.requestedAt)]);
  });

  it('names what a lost chunk result breaks; the repair run and the next backup heal it', async () => {
    const { h, s1, s2 } = await setup();
    const [entry] = await h.store.getChunkIndex(UID, [C1_KEY]);
    await h.deps.blobs.delete(blobKey(UID, entry?.resultRef as string));

    await ask(h);
    await h.drain();
    const found = await record(h);
    expect(found).toMatchObject({ status: 'done', repair: false, result: { ok: false, problemCount: 1, remaining: 1, damagedSnapshots: 2, byKind: { 'missing-segment': 1 }, repair: null } });
    expect(found?.result?.problems).toEqual([
      { kind: 'missing-segment', ref: entry?.resultRef, message: expect.any(String), snapshots: [s2.id, s1.id], snapshotCount: 2, items: [], itemCount: 3, indexEntries: [C1_KEY], indexEntryCount: 1, remains: true },
    ]);
    // Nothing was changed: the entry is still there.
    expect(await h.store.getChunkIndex(UID, [C1_KEY])).toEqual([entry]);

    await ask(h, true);
    await h.drain();
    const repaired = await record(h);
    expect(repaired).toMatchObject({ status: 'done', repair: true, result: { repair: { droppedIndexEntries: 1, markedSnapshots: 2, stoppedEarly: false } } });
    expect(repaired?.result?.problems[0]).toMatchObject({ kind: 'missing-segment', repaired: { droppedIndexEntries: 1, quarantined: false } });
    expect(await h.store.getChunkIndex(UID, [C1_KEY])).toEqual([null]);
    expect((await h.store.getSnapshot(s2.id))?.health).toMatchObject({ ok: false, manifestDamaged: true });

    // Past the time a damage mark takes to count for new backups (sources/baseline.ts).
    h.clock.advance(2 * MINUTE);
    await backup(h, [C1, C2]);
    await ask(h);
    await h.drain();
    expect(await record(h)).toMatchObject({ status: 'done', result: { ok: true, problemCount: 0 } });
  });

  it('out of time: stopped and recorded as deadline-exceeded; a new request may start at once', async () => {
    const { h } = await setup();
    const { record: queued } = await ask(h, true);
    const payload = checkTasks(h)[0]?.payload as CheckTaskPayload;
    await runCheckTask(h.deps, payload, { stopAt: h.clock.now() });
    expect(await record(h)).toMatchObject({ status: 'failed', requestedAt: queued.requestedAt, result: null, error: { code: 'deadline-exceeded', message: expect.stringContaining('lifeboat check --project') } });
    expect((await ask(h)).started).toBe(true);
  });

  it('a transient failure is noted on the running record and thrown for the queue to retry; a permanent one ends it', async () => {
    let failures = 1;
    const { h } = await setup((inner) => new Proxy(inner, {
      get(target, name) {
        if (name !== 'list') return Reflect.get(target, name, target).bind(target);
        return (prefix: string, o?: CallOptions) => {
          if (prefix === `users/${UID}/blobs/` && failures-- > 0) throw lifeboatError('unavailable', 'storage is down for a moment');
          return target.list(prefix, o);
        };
      },
    }));
    failures = 1;
    await ask(h);
    const payload = checkTasks(h)[0]?.payload as CheckTaskPayload;
    await expect(runCheckTask(h.deps, payload, { stopAt: h.clock.now() + 60_000 })).rejects.toMatchObject({ code: 'unavailable' });
    expect(await record(h)).toMatchObject({ status: 'running', error: { code: 'unavailable' } });
    // The queue runs the task again.
    await h.drain();
    expect(await record(h)).toMatchObject({ status: 'done', error: null, result: { ok: true } });

    // A data key that does not unwrap: no retry can help.
    h.clock.advance(1000);
    const { record: second } = await ask(h);
    const broken = { ...h.deps, keyRing: { dataKey: async () => Promise.reject(lifeboatError('data-loss', 'the data key does not unwrap')), destroyDataKey: async () => {} } };
    await runCheckTask(broken, { ...payload, requestedAt: second.requestedAt }, { stopAt: h.clock.now() + 60_000 });
    expect(await record(h)).toMatchObject({ status: 'failed', error: { code: 'failed-precondition', message: expect.stringContaining('master key') } });
  });

  it('saves a running check\'s progress now and then, and the result last', async () => {
    const { h } = await setup();
    await ask(h);
    const payload = checkTasks(h)[0]?.payload as CheckTaskPayload;
    const saved: CheckRecord[] = [];
    let now = h.clock.now();
    // A clock that moves 10 s on every reading, and a store that keeps every record written.
    const blobs = new Proxy(h.deps.blobs, {
      get(target, name) {
        if (name !== 'put') return Reflect.get(target, name, target).bind(target);
        return async (key: string, bytes: Uint8Array, o?: CallOptions) => {
          if (key === checkRecordKey(UID)) saved.push(JSON.parse(new TextDecoder().decode(bytes)) as CheckRecord);
          return target.put(key, bytes, o);
        };
      },
    });
    await runCheckTask({ ...h.deps, blobs, clock: { now: () => (now += 10_000) } }, payload, { stopAt: now + 3_600_000 });
    const statuses = saved.map((r) => (r.progress ? `${r.status}:${r.progress.phase}` : r.status));
    expect(statuses[0]).toBe('running');
    expect(statuses.slice(1, -1).length).toBeGreaterThan(0);
    expect(statuses.slice(1, -1).every((st) => /^running:(listing|snapshots|index)$/.test(st))).toBe(true);
    expect(statuses.at(-1)).toBe('done');
  });

  it('a task of a superseded request does nothing; a dead live record stops blocking after a while', async () => {
    const { h } = await setup();
    const { record: old } = await ask(h);
    await runCheckTask(h.deps, { kind: 'check', uid: UID, repair: false, requestedAt: old.requestedAt, actor: 'x' }, { stopAt: h.clock.now() + 60_000 });
    const done = await record(h);
    // Its task lost (dropped after its last attempt): the record stays queued until it is stale.
    h.clock.advance(1000);
    const { record: stuck } = await ask(h);
    expect(stuck.status).toBe('queued');
    h.clock.advance(STALE_CHECK_MS);
    const { record: fresh, started } = await ask(h, true);
    expect(started).toBe(true);
    await runCheckTask(h.deps, { kind: 'check', uid: UID, repair: false, requestedAt: stuck.requestedAt, actor: 'x' }, { stopAt: h.clock.now() + 60_000 });
    expect(await record(h)).toEqual(fresh);
    expect(done?.status).toBe('done');
  });

  it('refuses bad input, and takes a record that does not parse as none', async () => {
    const { h } = await setup();
    await expect(requestCheck(h.deps, { uid: '../etc', repair: false, actor: 'a' })).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringContaining('uid') });
    await expect(ask(h, false, 101)).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringContaining('readDataPercent') });
    expect(checkTasks(h)).toHaveLength(0);
    await h.deps.blobs.put(checkRecordKey(UID), new TextEncoder().encode('{"status":'));
    await expect(readCheckRecord(h.deps, UID)).rejects.toMatchObject({ code: 'data-loss' });
    expect((await ask(h)).started).toBe(true);
  });
});

describe('a check record', () => {
  it('stays bounded whatever the report holds', () => {
    const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));
    const problems: CheckProblem[] = many(500, (i) => String(i)).map((i) => ({
      kind: 'missing-blob',
      ref: sha256Hex(new TextEncoder().encode(i)),
      message: 'x'.repeat(5000),
      snapshots: many(1000, (j) => `snapshot-${j}`),
      items: many(100, (j) => `item-${j}`).map((sourceId) => ({ type: 'media' as const, sourceId })),
      itemCount: 100_000,
      indexEntries: many(1000, (j) => `contacts:v1:${j}`),
      remains: true,
    }));
    const report: UserCheckReport = {
      uid: UID, ok: false, checkedAt: 1, readDataPercent: 0, snapshots: 1000, indexEntries: 1000, listedBlobs: 1, manifestObjects: 1, contentBlobs: 1, contentRead: 0, unindexedResults: 0,
      problems, damagedSnapshots: [], repair: null,
    };
    const result = checkResultOf(report);
    expect(result).toMatchObject({ problemCount: 500, remaining: 500, byKind: { 'missing-blob': 500 } });
    expect(result.problems).toHaveLength(CHECK_RECORD_LIMITS.problems);
    expect(result.problems[0]).toMatchObject({ snapshotCount: 1000, itemCount: 100_000, indexEntryCount: 1000 });
    const stored: CheckRecord = { uid: UID, requestedAt: 1, actor: 'a', repair: false, readDataPercent: 0, status: 'done', updatedAt: 1, startedAt: 1, finishedAt: 1, progress: null, result, error: null };
    const bytes = new TextEncoder().encode(JSON.stringify(CheckRecord.parse(stored))).byteLength;
    expect(bytes).toBeLessThan(64 * 1024);
  });
});

// Keeps the import honest: the record is a plain blob the runtime's store reads back.
test('the record is stored under the user\'s settings', async () => {
  const { h } = await setup();
  await ask(h);
  const bytes = await readAll(await h.deps.blobs.get(checkRecordKey(UID)));
  expect(JSON.parse(new TextDecoder().decode(bytes))).toMatchObject({ uid: UID, status: 'queued' });
  expect(checkRecordKey(UID)).toBe(`settings/${UID}/check`);
});
