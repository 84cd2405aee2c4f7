import { loadManifest } from '../../src/core/snapshots/load-manifest';
import { ContentStore } from '../../src/core/content-store';
import { lifeboatError, type LifeboatError } from '../../src/core/errors';
import { finalize } from '../../src/core/steps/finalize';
import { kickoff } from '../../src/core/steps/kickoff';
import { processChunk } from '../../src/core/steps/process-chunk';
import { onChunkUploaded } from '../../src/core/events/chunk-uploaded';
import { uploadKey } from '../../src/core/keys';
import type { BlobStore } from '../../src/ports';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';
import { MemoryBlobStore } from '../fakes/memory-blob-store';

const deviceInfo = new TextEncoder().encode(JSON.stringify({ model: 'Pixel', os: 'android', osVersion: '15', appVersion: '1.0.0', locale: 'en-GB' }));

/** Creates a job, registers chunks, uploads the missing ones and commits; returns the job id. */
async function backup(h: Harness, uid: string, chunks: Array<{ type: 'contacts' | 'deviceInfo'; bytes: Uint8Array; items: number }>, drain = true, deviceId = 'phone-1') {
  const { job } = await h.call('createBackupJob', uid, { deviceId, types: ['contacts', 'deviceInfo'] });
  const descriptors = chunks.map((c) => describeChunk(c.type, c.bytes, c.items));
  const { missing } = await h.call('registerChunks', uid, { jobId: job.id, chunks: descriptors });
  let uploaded = 0;
  for (const c of chunks) {
    const d = describeChunk(c.type, c.bytes, c.items);
    if (!missing.includes(d.id)) continue;
    const { uploadUrl } = await h.call('beginChunkUpload', uid, { jobId: job.id, chunkId: d.id });
    await h.upload(uploadUrl as string, c.bytes);
    uploaded += c.bytes.byteLength;
  }
  await h.call('commitUpload', uid, { jobId: job.id, chunkCount: descriptors.length });
  if (drain) await h.drain();
  return { jobId: job.id, uploaded, missing };
}

async function state(h: Harness, jobId: string) {
  const job = await h.store.getJob(jobId);
  const chunks = await h.store.listChunks(jobId, { limit: 500 });
  const snapshot = job?.snapshotId ? await h.store.getSnapshot(job.snapshotId) : null;
  return { job, chunks: chunks.items, snapshot, blobs: [...(await keys(h.blobs))] };
}

async function keys(blobs: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const b of blobs.list('')) out.push(b.key);
  return out;
}

describe('engine: one backup end to end', () => {
  it('creates a snapshot whose manifest lists every item with its blob', async () => {
    const h = createHarness();
    const a = contactsChunk(['c1', 'c2', 'c3']);
    const b = contactsChunk(['c4']);
    const { jobId } = await backup(h, 'alice', [
      { type: 'contacts', bytes: a, items: 3 },
      { type: 'contacts', bytes: b, items: 1 },
      { type: 'deviceInfo', bytes: deviceInfo, items: 1 },
    ]);
    const { job, snapshot, blobs } = await state(h, jobId);
    expect(job).toMatchObject({ status: 'completed', phase: 'done', attempts: 1, lastError: null, snapshotId: `snap_${jobId}` });
    expect(job?.progress).toMatchObject({ totalChunks: 3, uploadedChunks: 3, processedChunks: 3, totalItems: 5, processedItems: 5, skippedItems: 0, bytesUploaded: a.byteLength + b.byteLength + deviceInfo.byteLength });
    expect(job?.progress.byType).toEqual({ contacts: { items: 4, skipped: 0, bytes: a.byteLength + b.byteLength }, deviceInfo: { items: 1, skipped: 0, bytes: deviceInfo.byteLength } });
    expect(snapshot).toMatchObject({ uid: 'alice', jobId, deviceId: 'phone-1', parentId: null, totals: { items: 5, skippedItems: 0, chunks: 3 } });
    const content = new ContentStore(h.blobs);
    const manifest = await loadManifest(content, snapshot as NonNullable<typeof snapshot>);
    expect(manifest.items.map((i) => i.sourceId)).toEqual(['c1', 'c2', 'c3', 'c4', 'deviceInfo']);
    // Raw uploads are gone once the snapshot exists; only content blobs remain.
    expect(blobs.every((k) => k.startsWith('users/alice/blobs/'))).toBe(true);
    const stored = JSON.parse(new TextDecoder().decode(await content.get('alice', manifest.items[4]?.blob ?? '')));
    expect(stored.model).toBe('Pixel');
  });

  it('an unchanged second backup uploads nothing and reuses every result', async () => {
    const h = createHarness();
    const chunks = [{ type: 'contacts' as const, bytes: contactsChunk(['c1', 'c2']), items: 2 }, { type: 'deviceInfo' as const, bytes: deviceInfo, items: 1 }];
    const first = await backup(h, 'alice', chunks);
    const blobsAfterFirst = await keys(h.blobs);
    const second = await backup(h, 'alice', chunks);
    expect(first.uploaded).toBeGreaterThan(0);
    expect(second.missing).toEqual([]);
    expect(second.uploaded).toBe(0);
    const { job, snapshot } = await state(h, second.jobId);
    expect(job).toMatchObject({ status: 'completed', progress: { bytesUploaded: 0, bytesDeduplicated: first.uploaded, processedItems: 3 } });
    expect(snapshot?.parentId).toBe(`snap_${first.jobId}`);
    // Nothing new is stored: the manifest names the first backup's segments, so it is the first's manifest blob.
    const added = (await keys(h.blobs)).filter((k) => !blobsAfterFirst.includes(k));
    expect(added).toEqual([]);
    expect(snapshot?.manifestRef).toBe((await h.store.getSnapshot(`snap_${first.jobId}`))?.manifestRef);
    expect(job?.progress.bytesStored).toBe(0);
  });

  it('a snapshot’s parent is its own device’s newest earlier snapshot, whatever finishes meanwhile (regression)', async () => {
    const h = createHarness();
    const phoneChunks = [{ type: 'contacts' as const, bytes: contactsChunk(['c1', 'c2']), items: 2 }];
    const phone1 = await backup(h, 'alice', phoneChunks);
    h.clock.advance(1000);
    // The phone and the tablet back up at once; the tablet's finishes first.
    const phone2 = await backup(h, 'alice', [{ type: 'contacts' as const, bytes: contactsChunk(['c1', 'c2', 'c3']), items: 3 }], false);
    h.clock.advance(1000);
    const tablet = await backup(h, 'alice', [{ type: 'contacts' as const, bytes: contactsChunk(['t1']), items: 1 }], false, 'tablet');
    await h.drain();
    const phoneSnap = (await state(h, phone2.jobId)).snapshot;
    const tabletSnap = (await state(h, tablet.jobId)).snapshot;
    expect(phoneSnap?.parentId).toBe(`snap_${phone1.jobId}`);
    expect(phoneSnap?.changes?.contacts).toMatchObject({ parentId: `snap_${phone1.jobId}`, added: 1, unchanged: 2, removed: 0 });
    expect(tabletSnap?.parentId).toBeNull();
    expect(tabletSnap?.changes?.contacts).toMatchObject({ parentId: null, added: 1, removed: 0 });
  });

  it('does not share chunks between users', async () => {
    const h = createHarness();
    const chunks = [{ type: 'contacts' as const, bytes: contactsChunk(['c1']), items: 1 }];
    await backup(h, 'alice', chunks);
    const bob = await backup(h, 'bob', chunks);
    expect(bob.missing).toHaveLength(1);
  });

  it('an empty backup completes with an empty snapshot', async () => {
    const h = createHarness();
    const { job } = await h.call('createBackupJob', 'alice', { deviceId: 'p', types: ['contacts'] });
    await h.call('commitUpload', 'alice', { jobId: job.id, chunkCount: 0 });
    await h.drain();
    const s = await state(h, job.id);
    expect(s.job?.status).toBe('completed');
    expect(s.snapshot?.totals.items).toBe(0);
  });

  it('records bad items on the manifest without failing the job', async () => {
    const h = createHarness();
    const bad = new TextEncoder().encode('{"id":"ok"}\nnot json\n');
    const { jobId } = await backup(h, 'alice', [{ type: 'contacts', bytes: bad, items: 2 }]);
    const { job, snapshot } = await state(h, jobId);
    expect(job).toMatchObject({ status: 'completed', progress: { processedItems: 2, skippedItems: 1 } });
    const manifest = await loadManifest(new ContentStore(h.blobs), snapshot as NonNullable<typeof snapshot>);
    expect(manifest.items[1]).toMatchObject({ sourceId: 'line:2', blob: null, skipReason: expect.stringMatching(/^line 2: not JSON/) });
  });
});

describe('engine: every step is idempotent', () => {
  async function uploadedButUnprocessed() {
    const h = createHarness();
    const bytes = contactsChunk(['c1', 'c2']);
    const { jobId } = await backup(h, 'alice', [{ type: 'contacts', bytes, items: 2 }], false);
    return { h, jobId, chunkId: describeChunk('contacts', bytes, 2).id, bytes };
  }

  it('kickoff twice = kickoff once', async () => {
    const { h, jobId } = await uploadedButUnprocessed();
    await kickoff(h.deps, jobId);
    const once = await state(h, jobId);
    await kickoff(h.deps, jobId);
    expect(await state(h, jobId)).toEqual(once);
    expect(once.job).toMatchObject({ status: 'running', attempts: 1 });
  });

  it('the upload event twice = once', async () => {
    const { h, jobId, chunkId, bytes } = await uploadedButUnprocessed();
    const once = await state(h, jobId);
    await onChunkUploaded(h.deps, { uid: 'alice', jobId, chunkId, key: uploadKey('alice', jobId, chunkId), size: bytes.byteLength });
    expect(await state(h, jobId)).toEqual(once);
  });

  it('processChunk twice (and concurrently) = once', async () => {
    const { h, jobId, chunkId } = await uploadedButUnprocessed();
    await kickoff(h.deps, jobId);
    await Promise.all([processChunk(h.deps, jobId, chunkId), processChunk(h.deps, jobId, chunkId)]);
    const once = await state(h, jobId);
    expect(once.job?.progress).toMatchObject({ processedChunks: 1, processedItems: 2 });
    await processChunk(h.deps, jobId, chunkId);
    expect(await state(h, jobId)).toEqual(once);
  });

  it('finalize twice = once', async () => {
    const { h, jobId } = await uploadedButUnprocessed();
    await h.drain();
    const once = await state(h, jobId);
    expect(once.job?.status).toBe('completed');
    h.clock.advance(60_000);
    await finalize(h.deps, jobId);
    expect(await state(h, jobId)).toEqual(once);
  });
});

/** A blob store that fails with `unavailable` on the first N gets of upload keys. */
function flakyBlobs(failures: number): BlobStore & { failuresLeft: number } {
  const inner = new MemoryBlobStore();
  const flaky = Object.create(inner) as BlobStore & { failuresLeft: number };
  flaky.failuresLeft = failures;
  flaky.get = async (key, options) => {
    if (key.startsWith('uploads/') && flaky.failuresLeft > 0) {
      flaky.failuresLeft -= 1;
      throw lifeboatError('unavailable', 'storage is down');
    }
    return inner.get(key, options);
  };
  for (const m of ['put', 'stat', 'exists', 'delete', 'list'] as const) (flaky as unknown as Record<string, unknown>)[m] = (inner[m] as (...a: unknown[]) => unknown).bind(inner);
  return flaky;
}

describe('engine: failures', () => {
  it('a transient failure is retried and the job completes; lastError shows it while retrying', async () => {
    const blobs = flakyBlobs(2);
    const h = createHarness({ blobs });
    const { jobId } = await backup(h, 'alice', [{ type: 'contacts', bytes: contactsChunk(['c1']), items: 1 }]);
    const job = await h.store.getJob(jobId);
    expect(job?.status).toBe('completed');
    expect(h.queue.log.filter((l) => l.startsWith('processChunk'))).toEqual([
      expect.stringMatching(/#0 -> unavailable$/),
      expect.stringMatching(/#1 -> unavailable$/),
      expect.stringMatching(/#2 -> ok$/),
    ]);
  });

  it('a job whose step exhausts its retries ends failed with lastError, never running', async () => {
    const h = createHarness({ blobs: flakyBlobs(100) });
    const { jobId } = await backup(h, 'alice', [{ type: 'contacts', bytes: contactsChunk(['c1']), items: 1 }]);
    const job = await h.store.getJob(jobId);
    expect(h.queue.log.filter((l) => l.startsWith('processChunk'))).toHaveLength(6);
    expect(job).toMatchObject({ status: 'failed', lastError: { code: 'unavailable', step: 'processChunk', retrying: false } });
    expect(job?.lastError?.message).toMatch(/processChunk failed \[job=.*, chunk=.*, attempt=6\]: storage is down/);
  });

  it('a failed job can be retried and resumes where it stopped', async () => {
    const blobs = flakyBlobs(6);
    const h = createHarness({ blobs });
    const { jobId } = await backup(h, 'alice', [{ type: 'contacts', bytes: contactsChunk(['c1']), items: 1 }]);
    expect((await h.store.getJob(jobId))?.status).toBe('failed');
    const { job } = await h.call('retryBackup', 'alice', { jobId });
    expect(job.status).toBe('queued');
    await h.drain();
    expect(await h.store.getJob(jobId)).toMatchObject({ status: 'completed', attempts: 2, lastError: null });
  });

  it('a permanent failure (corrupt upload) fails the job at once', async () => {
    const h = createHarness();
    const bytes = contactsChunk(['c1']);
    const { jobId } = await backup(h, 'alice', [{ type: 'contacts', bytes, items: 1 }], false);
    const chunkId = describeChunk('contacts', bytes, 1).id;
    await h.blobs.delete(uploadKey('alice', jobId, chunkId));
    await h.blobs.put(uploadKey('alice', jobId, chunkId), new TextEncoder().encode('tampered'));
    await h.drain();
    expect(await h.store.getJob(jobId)).toMatchObject({ status: 'failed', lastError: { code: 'data-loss', retrying: false } });
    expect(h.queue.log.filter((l) => l.startsWith('processChunk'))).toHaveLength(1);
  });

  it('work for a cancelled job is dropped', async () => {
    const h = createHarness();
    const { jobId } = await backup(h, 'alice', [{ type: 'contacts', bytes: contactsChunk(['c1']), items: 1 }], false);
    await h.call('cancelBackup', 'alice', { jobId });
    await h.drain();
    const s = await state(h, jobId);
    expect(s.job?.status).toBe('cancelled');
    expect(s.snapshot).toBeNull();
    expect(s.blobs.filter((k) => k.startsWith('uploads/'))).toEqual([]);
  });
});

describe('API: bad input changes nothing', () => {
  async function fixture() {
    const h = createHarness();
    const bytes = contactsChunk(['c1']);
    const chunk = describeChunk('contacts', bytes, 1);
    const { job } = await h.call('createBackupJob', 'alice', { deviceId: 'p', types: ['contacts'] });
    await h.call('registerChunks', 'alice', { jobId: job.id, chunks: [chunk] });
    return { h, jobId: job.id, chunk };
  }

  async function expectRefused(h: Harness, jobId: string, run: () => Promise<unknown>, code: string, message?: RegExp) {
    const before = await state(h, jobId);
    const jobsBefore = await h.store.listJobs({ uid: 'alice' });
    let caught: LifeboatError | undefined;
    try {
      await run();
    } catch (err) {
      caught = err as LifeboatError;
    }
    expect(caught?.code).toBe(code);
    if (message) expect(caught?.message).toMatch(message);
    expect(await state(h, jobId)).toEqual(before);
    expect(await h.store.listJobs({ uid: 'alice' })).toEqual(jobsBefore);
  }

  const cases: Array<[string, (f: Awaited<ReturnType<typeof fixture>>) => { name: Parameters<Harness['call']>[0]; uid: string | null; data: unknown }, string, RegExp?]> = [
    ['createBackupJob without a token', () => ({ name: 'createBackupJob', uid: null, data: { deviceId: 'p', types: ['contacts'] } }), 'unauthenticated'],
    ['createBackupJob with wrong types', () => ({ name: 'createBackupJob', uid: 'alice', data: { deviceId: 7, types: 'contacts' } }), 'invalid-argument', /deviceId/],
    ['createBackupJob with an unknown type', () => ({ name: 'createBackupJob', uid: 'alice', data: { deviceId: 'p', types: ['photos'] } }), 'invalid-argument', /types/],
    ['createBackupJob with an unknown option', () => ({ name: 'createBackupJob', uid: 'alice', data: { deviceId: 'p', types: ['contacts'], options: { wifi: true } } }), 'invalid-argument', /wifi/],
    ['getBackupJob missing jobId', () => ({ name: 'getBackupJob', uid: 'alice', data: {} }), 'invalid-argument', /jobId/],
    ["getBackupJob of another user's job", (f) => ({ name: 'getBackupJob', uid: 'bob', data: { jobId: f.jobId } }), 'permission-denied'],
    ['getBackupJob of an unknown job', () => ({ name: 'getBackupJob', uid: 'alice', data: { jobId: 'no-such-job' } }), 'not-found'],
    ['listBackupJobs with a bad limit', () => ({ name: 'listBackupJobs', uid: 'alice', data: { limit: 1000 } }), 'invalid-argument', /limit/],
    ['registerChunks with a bad hash', (f) => ({ name: 'registerChunks', uid: 'alice', data: { jobId: f.jobId, chunks: [{ ...f.chunk, id: 'xyz' }] } }), 'invalid-argument', /SHA-256/],
    ['registerChunks missing chunks', (f) => ({ name: 'registerChunks', uid: 'alice', data: { jobId: f.jobId } }), 'invalid-argument', /chunks/],
    ['registerChunks of a type outside the job', (f) => ({ name: 'registerChunks', uid: 'alice', data: { jobId: f.jobId, chunks: [{ ...f.chunk, id: 'b'.repeat(64), type: 'deviceInfo' }] } }), 'invalid-argument', /not part of job/],
    ['registerChunks changing a chunk size', (f) => ({ name: 'registerChunks', uid: 'alice', data: { jobId: f.jobId, chunks: [{ ...f.chunk, size: f.chunk.size + 1 }] } }), 'invalid-argument', /another type or size/],
    ["registerChunks on another user's job", (f) => ({ name: 'registerChunks', uid: 'bob', data: { jobId: f.jobId, chunks: [f.chunk] } }), 'permission-denied'],
    ['registerChunks on an unknown job', (f) => ({ name: 'registerChunks', uid: 'alice', data: { jobId: 'no-such-job', chunks: [f.chunk] } }), 'not-found'],
    ['beginChunkUpload of an unregistered chunk', (f) => ({ name: 'beginChunkUpload', uid: 'alice', data: { jobId: f.jobId, chunkId: 'c'.repeat(64) } }), 'not-found'],
    ["beginChunkUpload on another user's job", (f) => ({ name: 'beginChunkUpload', uid: 'bob', data: { jobId: f.jobId, chunkId: f.chunk.id } }), 'permission-denied'],
    ['beginChunkUpload with wrong types', (f) => ({ name: 'beginChunkUpload', uid: 'alice', data: { jobId: f.jobId, chunkId: 5 } }), 'invalid-argument'],
    ['commitUpload with the wrong chunk count', (f) => ({ name: 'commitUpload', uid: 'alice', data: { jobId: f.jobId, chunkCount: 2 } }), 'failed-precondition', /2 chunks committed but 1 registered/],
    ['commitUpload with a negative count', (f) => ({ name: 'commitUpload', uid: 'alice', data: { jobId: f.jobId, chunkCount: -1 } }), 'invalid-argument'],
    ["commitUpload on another user's job", (f) => ({ name: 'commitUpload', uid: 'bob', data: { jobId: f.jobId, chunkCount: 1 } }), 'permission-denied'],
    ['pauseBackup with an unknown reason', (f) => ({ name: 'pauseBackup', uid: 'alice', data: { jobId: f.jobId, reason: 'bored' } }), 'invalid-argument', /reason/],
    ["pauseBackup on another user's job", (f) => ({ name: 'pauseBackup', uid: 'bob', data: { jobId: f.jobId, reason: 'user' } }), 'permission-denied'],
    ["resumeBackup on another user's job", (f) => ({ name: 'resumeBackup', uid: 'bob', data: { jobId: f.jobId } }), 'permission-denied'],
    ["cancelBackup on another user's job", (f) => ({ name: 'cancelBackup', uid: 'bob', data: { jobId: f.jobId } }), 'permission-denied'],
    ['cancelBackup of an unknown job', () => ({ name: 'cancelBackup', uid: 'alice', data: { jobId: 'no-such-job' } }), 'not-found'],
    ['retryBackup of a job that has not failed', (f) => ({ name: 'retryBackup', uid: 'alice', data: { jobId: f.jobId } }), 'failed-precondition', /not failed/],
    ['getSnapshot of an unknown snapshot', () => ({ name: 'getSnapshot', uid: 'alice', data: { snapshotId: 'snap_nope' } }), 'not-found'],
    ['listSnapshots with an unknown field', () => ({ name: 'listSnapshots', uid: 'alice', data: { uid: 'bob' } }), 'invalid-argument', /uid/],
  ];

  // A rest parameter keeps jest from taking a fourth parameter for a `done` callback.
  it.each(cases)('%s', async (...row) => {
    const [, build, code, message] = row;
    const f = await fixture();
    const { name, uid, data } = build(f);
    await expectRefused(f.h, f.jobId, () => f.h.call(name, uid, data), code, message);
  });

  it('cancelling twice: the second answers the cancelled job and changes nothing (a retried cancel)', async () => {
    const f = await fixture();
    const first = await f.h.call('cancelBackup', 'alice', { jobId: f.jobId });
    const before = await state(f.h, f.jobId);
    f.h.clock.advance(1000);
    const again = await f.h.call('cancelBackup', 'alice', { jobId: f.jobId });
    expect(again.job).toEqual(first.job);
    expect(await state(f.h, f.jobId)).toEqual(before);
    await expectRefused(f.h, f.jobId, () => f.h.call('cancelBackup', 'bob', { jobId: f.jobId }), 'permission-denied');
    await expectRefused(f.h, f.jobId, () => f.h.call('registerChunks', 'alice', { jobId: f.jobId, chunks: [f.chunk] }), 'failed-precondition', /cancelled/);
  });

  it('createBackupJob with a client job id is idempotent for its owner', async () => {
    const h = createHarness();
    const first = await h.call('createBackupJob', 'alice', { deviceId: 'p', types: ['contacts'], jobId: 'client-key-1' });
    const again = await h.call('createBackupJob', 'alice', { deviceId: 'p', types: ['contacts'], jobId: 'client-key-1' });
    expect(again.job).toEqual(first.job);
    expect(h.queue.pending.filter((t) => t.queue === 'kickoff')).toHaveLength(1);
  });

  it('applies option defaults and clamps media quality', async () => {
    const h = createHarness();
    const { job } = await h.call('createBackupJob', 'alice', { deviceId: 'p', types: ['contacts'], options: { mediaQuality: 99 } });
    expect(job.options).toEqual({ wifiOnly: true, minBatteryPercent: 20, requiresCharging: false, storageNotLow: true, mediaMode: 'original', compressMedia: false, mediaQuality: 85, maxMediaSizeMB: 500, incrementalOnly: false });
  });

  it('records the media mode a job runs in: its own, its compressMedia alias, else the server\'s default', async () => {
    const h = createHarness();
    const create = async (options: Record<string, unknown>) =>
      (await h.call('createBackupJob', 'alice', { deviceId: 'p', types: ['media'], options })).job.options;
    expect(await create({})).toMatchObject({ mediaMode: 'original', compressMedia: false });
    expect(await create({ mediaMode: 'storageSaver', stripLocation: true })).toMatchObject({ mediaMode: 'storageSaver', compressMedia: true, stripLocation: true });
    expect(await create({ compressMedia: true })).toMatchObject({ mediaMode: 'storageSaver', compressMedia: true });
    expect(await create({ compressMedia: false })).toMatchObject({ mediaMode: 'original', compressMedia: false });
    await expect(create({ mediaMode: 'original', compressMedia: true })).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/compressMedia true contradicts mediaMode original/) });
    await expect(create({ mediaMode: 'smaller' })).rejects.toMatchObject({ code: 'invalid-argument' });
    // The deployment's default applies to jobs (and schedules) that choose nothing.
    h.deps.mediaMode = 'storageSaver';
    expect(await create({})).toMatchObject({ mediaMode: 'storageSaver', compressMedia: true });
    expect(await create({ mediaMode: 'original' })).toMatchObject({ mediaMode: 'original' });
    const { schedule } = await h.call('setSchedule', 'alice', { deviceId: 'p', kind: 'nightly', types: ['media'], timeZone: 'UTC' });
    expect(schedule.options).toMatchObject({ mediaMode: 'storageSaver', compressMedia: true });
  });

  it('pause and resume keep the reason visible while paused', async () => {
    const f = await fixture();
    const { job: paused } = await f.h.call('pauseBackup', 'alice', { jobId: f.jobId, reason: 'waiting_for_wifi' });
    expect(paused).toMatchObject({ status: 'paused', pauseReason: 'waiting_for_wifi' });
    await expectRefused(f.h, f.jobId, () => f.h.call('beginChunkUpload', 'alice', { jobId: f.jobId, chunkId: f.chunk.id }), 'failed-precondition', /paused/);
    const { job: resumed } = await f.h.call('resumeBackup', 'alice', { jobId: f.jobId });
    expect(resumed).toMatchObject({ status: 'running', pauseReason: null, attempts: 1 });
  });
});
