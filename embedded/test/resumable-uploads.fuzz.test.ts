/**
 * The embedded server's resumable-upload protocol, fuzzed (issue 16): random sequences of
 * Content-Range headers and bodies (right bytes, wrong bytes, short bodies, overlaps, gaps, wrong
 * totals, garbage headers) never store anything but the registered chunk's exact bytes, every
 * answer is one of the protocol's, and a device that then resumes as the protocol says always
 * completes the upload.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { readAll } from '@lifeboat/engine/ports';
import { checkProperty } from '../../functions/test/fuzz/fuzz';
import { FolderBlobStore } from '../src/adapters';
import { openDatabase } from '../src/adapters/sqlite-database';
import { ResumableUploads, type UploadReply } from '../src/server/resumable-uploads';

const body = (bytes: Uint8Array) => Readable.from(bytes.byteLength > 0 ? [Buffer.from(bytes)] : []) as unknown as IncomingMessage;

const op = fc.record({
  header: fc.constantFrom('range', 'range', 'range', 'star', 'wrong-total', 'garbage'),
  a: fc.nat(5_000),
  b: fc.nat(5_000),
  content: fc.constantFrom('chunk', 'chunk', 'random', 'empty'),
  cut: fc.option(fc.nat(5_000)),
  garbage: fc.string({ maxLength: 30 }),
});

describe('resumable uploads under random Content-Range sequences', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-upload-fuzz-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('never store anything but the chunk, and always complete when the device resumes', async () => {
    const blobs = new FolderBlobStore(join(dir, 'blobs'));
    const uploads = new ResumableUploads({
      db: openDatabase(join(dir, 'uploads.db')),
      blobs,
      clock: { now: () => Date.now() },
      partsDir: join(dir, 'parts'),
      baseUrl: () => 'http://127.0.0.1/upload',
      onComplete: async () => undefined,
    });
    mkdirSync(join(dir, 'parts'), { recursive: true });
    let n = 0;
    const stored = async (key: string) => ((await blobs.exists(key)) ? readAll(await blobs.get(key)) : null);

    await checkProperty('resumable uploads', fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 3_000 }), fc.array(op, { maxLength: 12 }), fc.uint8Array({ maxLength: 3_000 }), async (chunk, ops, noise) => {
      const key = `fuzz/${++n}`;
      const size = chunk.byteLength;
      const { url } = await uploads.create({ key, size, sha256: createHash('sha256').update(chunk).digest('hex'), metadata: {}, uid: 'fuzz', jobId: `job-${n}` });
      const id = url.slice(url.lastIndexOf('/') + 1);
      const check = async (reply: UploadReply) => {
        expect([200, 308, 400, 404, 410, 503]).toContain(reply.status);
        const bytes = await stored(key);
        // Whatever arrived, only the registered chunk's exact bytes are ever stored.
        if (bytes !== null) expect(Buffer.from(bytes).equals(Buffer.from(chunk))).toBe(true);
        if (reply.status === 200) expect(bytes).not.toBeNull();
      };
      for (const o of ops) {
        const first = o.a % (size + 3);
        const last = o.b % (size + 3);
        const header = o.header === 'star' ? `bytes */${size}` : o.header === 'wrong-total' ? `bytes ${first}-${last}/${size + 1}` : o.header === 'garbage' ? o.garbage : `bytes ${first}-${last}/${size}`;
        let data = o.content === 'empty' ? new Uint8Array() : o.content === 'chunk' ? chunk.subarray(first, last + 1) : noise.subarray(0, Math.max(0, last - first + 1));
        if (o.cut !== null) data = data.subarray(0, o.cut);
        await check(await uploads.handlePut(id, header, body(data)));
      }
      // The device resumes as the protocol says: ask the offset, send the rest, start over on data-loss.
      for (let attempt = 0; attempt < 3; attempt++) {
        const asked = await uploads.handlePut(id, `bytes */${size}`, body(new Uint8Array()));
        await check(asked);
        if (asked.status === 200) break;
        const offset = asked.status === 308 && asked.range ? Number(asked.range.split('-')[1]) + 1 : 0;
        const sent = await uploads.handlePut(id, `bytes ${offset}-${size - 1}/${size}`, body(chunk.subarray(offset)));
        await check(sent);
        if (sent.status === 200) break;
      }
      expect(Buffer.from((await stored(key)) ?? []).equals(Buffer.from(chunk))).toBe(true);
    }), { runs: 60, shareOfTime: 0.2 });
  });
});
