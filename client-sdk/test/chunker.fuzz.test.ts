/**
 * The SDK's chunker, fuzzed (issue 16): whatever the app hands it, it packs every record (its
 * JSON or its stand-in) or refuses with a BackupClientError; it never throws anything else, and
 * every line it writes parses as JSON within the record limits.
 */
import fc from 'fast-check';
import { checkProperty } from '../../functions/test/fuzz/fuzz';
import { chatChunks, contactChunks } from '../src/chunker';
import { BackupClientError } from '../src/errors';
import { RECORD_LIMITS } from '../src/record-limits';

const deep = fc.integer({ min: 1, max: 3_000 }).map((n) => {
  let v: unknown = 0;
  for (let i = 0; i < n; i++) v = [v];
  return v;
});
const value = fc.oneof(fc.anything({ maxDepth: 4, withBigInt: true, withDate: true, withMap: true, withTypedArray: true, withSparseArray: true }), deep);

describe('SDK chunker under random records', () => {
  it('packs or refuses with a BackupClientError; every line is JSON within the limits', async () => {
    const record = fc.record({ id: fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), value), conversationId: fc.oneof(fc.string({ minLength: 1, maxLength: 5 }), value), sentAt: fc.oneof(fc.integer(), fc.string(), value), extra: value }, { requiredKeys: [] });
    await checkProperty('sdk chunker', fc.asyncProperty(fc.array(record, { maxLength: 20 }), fc.boolean(), async (records, chats) => {
      let chunks;
      try {
        chunks = chats ? await chatChunks(records as never, 64 * 1024) : await contactChunks(records as never, 64 * 1024);
      } catch (err) {
        if (!(err instanceof BackupClientError) || err.code !== 'backup/invalid-argument') throw err;
        return;
      }
      expect(chunks.reduce((n, c) => n + c.items, 0)).toBe(records.length);
      for (const chunk of chunks) {
        for (const line of new TextDecoder().decode(chunk.bytes).trimEnd().split('\n')) {
          expect(new TextEncoder().encode(line).byteLength).toBeLessThanOrEqual(RECORD_LIMITS.maxRecordBytes);
          expect(typeof JSON.parse(line)).toBe('object');
        }
      }
    }), { runs: 150 });
  });
});
