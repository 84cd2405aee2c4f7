/**
 * The SDK's record limits (issue 16 item 4): the same numbers as the server's, checked before a
 * record is packed; a record over a limit goes as a stand-in that the server records as that
 * item's skip, and the backup goes on.
 */
import { ContentStore } from '../../functions/src/core/content-store';
import { BackupOptions } from '../../functions/src/core/model';
import { RECORD_LIMITS as SERVER_LIMITS, SKIPPED_MARKER as SERVER_MARKER } from '../../functions/src/core/record-limits';
import { chatsStrategy, contactsStrategy, deviceInfoStrategy } from '../../functions/src/strategies';
import { MapBlobStore } from '../../functions/test/fakes/map-blob-store';
import { chatChunks, contactChunks, deviceInfoChunk, fnv1a32, BOUNDARY_MODULUS } from '../src/chunker';
import { RECORD_LIMITS, SKIPPED_MARKER } from '../src/record-limits';

const lines = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trimEnd().split('\n');
const ctx = () => ({ uid: 'alice', jobId: 'job-00001', options: BackupOptions.parse({}), content: new ContentStore(new MapBlobStore()) });
const nested = (depth: number): unknown => {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

describe('record limits in the SDK', () => {
  it('are the server\'s limits', () => {
    expect(RECORD_LIMITS).toEqual(SERVER_LIMITS);
    expect(SKIPPED_MARKER).toBe(SERVER_MARKER);
  });

  it('a contact nested 5 000 deep, a cyclic one, a huge one and a BigInt go as stand-ins; the server skips them and stores the rest', async () => {
    const cyclic: { id: string; [k: string]: unknown } = { id: 'c3', name: { display: 'Loop' } };
    cyclic['self'] = cyclic;
    const contacts = [
      { id: 'c1', name: { display: 'One' } },
      { id: 'c2', extra: nested(5000) },
      cyclic,
      { id: 'c4', note: 'x'.repeat(RECORD_LIMITS.maxRecordBytes) },
      { id: 'c5', count: 10n },
      { id: 'c6', name: { display: 'Six' } },
    ];
    const chunks = await contactChunks(contacts, 1024 * 1024);
    const text = chunks.flatMap((c) => lines(c.bytes));
    expect(text.map((l) => JSON.parse(l))).toEqual([
      { id: 'c1', name: { display: 'One' } },
      { [SKIPPED_MARKER]: `nested deeper than the ${RECORD_LIMITS.maxDepth}-level record limit`, id: 'c2' },
      { [SKIPPED_MARKER]: `nested deeper than the ${RECORD_LIMITS.maxDepth}-level record limit`, id: 'c3' },
      { [SKIPPED_MARKER]: `${RECORD_LIMITS.maxRecordBytes + 21} bytes, over the ${RECORD_LIMITS.maxRecordBytes}-byte record limit`, id: 'c4' },
      { [SKIPPED_MARKER]: 'not serializable as JSON (Do not know how to serialize a BigInt)', id: 'c5' },
      { id: 'c6', name: { display: 'Six' } },
    ]);
    const items = (await Promise.all(chunks.map((c) => contactsStrategy.processChunk(c.bytes, ctx())))).flat();
    // Line numbers are per chunk; the records' order is the test.
    expect(items.map((i) => `${i.sourceId} ${(i.skipReason ?? 'stored').replace(/^line \d+: /, '')}`)).toEqual([
      'c1 stored',
      `c2 left out by its sender: nested deeper than the ${RECORD_LIMITS.maxDepth}-level record limit`,
      `c3 left out by its sender: nested deeper than the ${RECORD_LIMITS.maxDepth}-level record limit`,
      `c4 left out by its sender: ${RECORD_LIMITS.maxRecordBytes + 21} bytes, over the ${RECORD_LIMITS.maxRecordBytes}-byte record limit`,
      'c5 left out by its sender: not serializable as JSON (Do not know how to serialize a BigInt)',
      'c6 stored',
    ]);
  });

  it('a value shared many times (2^40 paths) is refused by the budget, not walked', async () => {
    let shared: unknown = 'leaf';
    for (let i = 0; i < 40; i++) shared = { l: shared, r: shared };
    const [chunk] = await contactChunks([{ id: 'c1', tree: shared } as { id: string }], 1024 * 1024);
    expect(JSON.parse(lines(chunk!.bytes)[0]!)).toEqual({ [SKIPPED_MARKER]: `over the ${RECORD_LIMITS.maxRecordBytes}-byte record limit`, id: 'c1' });
  });

  it('a chat message over a limit keeps its conversation on the stand-in; device info too', async () => {
    const [chunk] = await chatChunks([{ id: 'm1', conversationId: 'k', sentAt: 1, deep: nested(3000) } as never, { id: 'm2', conversationId: 'k', sentAt: 2, senderId: 'u', text: 't' } as never], 1024 * 1024);
    const items = await chatsStrategy.processChunk(chunk!.bytes, ctx());
    expect(items.map((i) => [i.sourceId, i.conversationId, i.skipReason ?? 'stored'])).toEqual([
      ['m1', 'k', `line 1: left out by its sender: nested deeper than the ${RECORD_LIMITS.maxDepth}-level record limit`],
      ['m2', 'k', 'stored'],
    ]);
    const info = await deviceInfoChunk({ model: 'P', os: 'a', osVersion: '1', appVersion: '1', locale: 'en', x: nested(3000) } as never);
    const [item] = await deviceInfoStrategy.processChunk(info.bytes, ctx());
    expect(item?.skipReason).toBe(`left out by its sender: nested deeper than the ${RECORD_LIMITS.maxDepth}-level record limit`);
  });

  it('cuts a chunk at the records one chunk may hold', async () => {
    const ids: string[] = [];
    // Ids that never end a chunk by their hash, so only the count can.
    for (let i = 0; ids.length <= RECORD_LIMITS.maxRecordsPerChunk; i++) {
      const id = `c${String(i).padStart(7, '0')}`;
      if (fnv1a32(id) % BOUNDARY_MODULUS !== 0) ids.push(id);
    }
    const chunks = await contactChunks(ids.map((id) => ({ id })), 64 * 1024 * 1024);
    expect(chunks.map((c) => c.items)).toEqual([RECORD_LIMITS.maxRecordsPerChunk, 1]);
  });
});
