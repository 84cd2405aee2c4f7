/**
 * Depth, size and count limits on records (issue 16 item 4): a record over a limit is that
 * item's skip with a reason; the good records beside it are stored and the job completes.
 */
import { ContentStore } from '../../src/core/content-store';
import { contentStoreOf } from '../../src/core/deps';
import { loadManifest } from '../../src/core/snapshots/load-manifest';
import { BackupOptions, type ManifestItem } from '../../src/core/model';
import { RECORD_LIMITS } from '../../src/core/record-limits';
import { chatsStrategy, contactsStrategy, deviceInfoStrategy } from '../../src/strategies';
import { createHarness, describeChunk } from '../fakes/engine-harness';
import { MapBlobStore } from '../fakes/map-blob-store';

const enc = (s: string) => new TextEncoder().encode(s);
const options = BackupOptions.parse({});
const ctx = () => ({ uid: 'alice', jobId: 'job-00001', options, content: new ContentStore(new MapBlobStore()) });
/** A JSON array nested `depth` deep, as text: past what JSON.stringify can write back. */
const deepJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const summary = (items: ManifestItem[]) => items.map((i) => (i.skipReason ? `skip ${i.sourceId}: ${i.skipReason}` : `ok ${i.sourceId}`));

describe('record limits on the server', () => {
  it('contacts: a record nested 3 000 deep is skipped, its neighbours stored', async () => {
    const lines = [
      JSON.stringify({ id: 'c1', name: { display: 'One' } }),
      `{"id":"c2","extra":${deepJson(3000)}}`,
      JSON.stringify({ id: 'c3', name: { display: 'Three' } }),
    ];
    const items = await contactsStrategy.processChunk(enc(`${lines.join('\n')}\n`), ctx());
    expect(summary(items)).toEqual(['ok c1', `skip c2: line 2: nested deeper than the ${RECORD_LIMITS.maxDepth}-level record limit`, 'ok c3']);
  });

  it('chats: a deep message, an oversized line and a device-skipped record are skipped; the rest stored', async () => {
    const message = (id: string, extra = '') => `{"id":"${id}","conversationId":"k","senderId":"u","sentAt":1700000000000,"text":"t"${extra}}`;
    const huge = message('m3', `,"pad":"${'x'.repeat(RECORD_LIMITS.maxRecordBytes)}"`);
    const lines = [message('m1'), message('m2', `,"x":${deepJson(5000)}`), huge, '{"$skipped":"nested deeper than the 64-level record limit","id":"m4","conversationId":"k"}', message('m5')];
    const items = await chatsStrategy.processChunk(enc(`${lines.join('\n')}\n`), ctx());
    expect(summary(items)).toEqual([
      'ok m1',
      `skip m2: line 2: nested deeper than the ${RECORD_LIMITS.maxDepth}-level record limit`,
      `skip line:3: line 3: ${huge.length} bytes, over the ${RECORD_LIMITS.maxRecordBytes}-byte record limit`,
      'skip m4: line 4: left out by its sender: nested deeper than the 64-level record limit',
      'ok m5',
    ]);
    expect(items[3]?.conversationId).toBe('k');
  });

  it('deviceInfo: a deep or device-skipped record is a skipped item', async () => {
    const deep = await deviceInfoStrategy.processChunk(enc(`{"model":"P","os":"a","osVersion":"1","appVersion":"1","locale":"en","x":${deepJson(4000)}}`), ctx());
    expect(deep[0]?.skipReason).toBe(`device info is invalid: nested deeper than the ${RECORD_LIMITS.maxDepth}-level record limit`);
    const skipped = await deviceInfoStrategy.processChunk(enc('{"$skipped":"not serializable as JSON"}'), ctx());
    expect(skipped[0]?.skipReason).toBe('left out by its sender: not serializable as JSON');
  });

  it('records past the count a chunk may hold are one skipped item', async () => {
    const n = RECORD_LIMITS.maxRecordsPerChunk + 3;
    const text = Array.from({ length: n }, (_, i) => `{"id":"c${i}"}`).join('\n') + '\n';
    const items = await contactsStrategy.processChunk(enc(text), ctx());
    expect(items).toHaveLength(RECORD_LIMITS.maxRecordsPerChunk + 1);
    const last = items[items.length - 1];
    expect(last?.sourceId).toBe(`lines:${RECORD_LIMITS.maxRecordsPerChunk + 1}-${n}`);
    expect(last?.skipReason).toBe(`lines ${RECORD_LIMITS.maxRecordsPerChunk + 1}..${n}: over the ${RECORD_LIMITS.maxRecordsPerChunk} records one chunk may hold`);
    expect(last?.originalSize).toBe([RECORD_LIMITS.maxRecordsPerChunk, RECORD_LIMITS.maxRecordsPerChunk + 1, RECORD_LIMITS.maxRecordsPerChunk + 2].reduce((s, i) => s + `{"id":"c${i}"}`.length + 1, 0));
  });

  it('a contacts chunk with a deep record completes its job; the good records are in the snapshot', async () => {
    const h = createHarness();
    const bytes = enc(`${JSON.stringify({ id: 'a1', name: { display: 'A' } })}\n{"id":"a2","x":${deepJson(2500)}}\n${JSON.stringify({ id: 'a3', name: { display: 'C' } })}\n`);
    const { job } = await h.call('createBackupJob', 'alice', { deviceId: 'p', types: ['contacts'] });
    const { missing } = await h.call('registerChunks', 'alice', { jobId: job.id, chunks: [describeChunk('contacts', bytes, 3)] });
    const { uploadUrl } = await h.call('beginChunkUpload', 'alice', { jobId: job.id, chunkId: missing[0] as string });
    await h.upload(uploadUrl as string, bytes);
    await h.call('commitUpload', 'alice', { jobId: job.id, chunkCount: 1 });
    await h.drain();
    const done = await h.store.getJob(job.id);
    expect(done?.status).toBe('completed');
    const snapshot = await h.store.getSnapshot(done?.snapshotId ?? '');
    const manifest = await loadManifest(contentStoreOf(h.deps), snapshot!);
    expect(summary(manifest.items)).toEqual(['ok a1', `skip a2: line 2: nested deeper than the ${RECORD_LIMITS.maxDepth}-level record limit`, 'ok a3']);
  });
});
