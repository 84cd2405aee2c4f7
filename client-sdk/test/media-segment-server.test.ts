/**
 * The contract between the SDK's media parts and the server's media strategy: a part made by the
 * SDK decodes on the server, is stored as is with its segment, and the size cap applies to the
 * whole file. Runs the real strategy over an in-memory blob store.
 */
import { randomBytes } from 'node:crypto';
import { ContentStore } from '../../functions/src/core/content-store';
import { BackupOptions, type BackupOptionsInput } from '../../functions/src/core/model';
import { decodeMediaEnvelope, mediaStrategy } from '../../functions/src/strategies';
import { MapBlobStore } from '../../functions/test/fakes/map-blob-store';
import { encodeMediaEnvelope } from '../src/media-envelope';
import { isInMemory, mediaChunks, type StreamedChunk, type UploadChunk } from '../src/media-file';

const KIB = 1024;

async function bytesOf(chunk: UploadChunk): Promise<Uint8Array> {
  if (isInMemory(chunk)) return chunk.bytes;
  const reader = await (chunk as StreamedChunk).open();
  try {
    return await reader.read(0, chunk.size);
  } finally {
    await reader.close();
  }
}

function context(input: BackupOptionsInput = {}) {
  const content = new ContentStore(new MapBlobStore());
  return { content, ctx: { uid: 'alice', jobId: 'job-00001', options: BackupOptions.parse(input), content } };
}

describe('media parts on the server', () => {
  it('stores each part as is with its segment; the parts join into the file', async () => {
    // A JPEG signature: a whole file would be re-encoded, a part never reaches the decoder.
    const file = new Uint8Array([0xff, 0xd8, 0xff, ...randomBytes(700 * KIB)]);
    const chunks = await mediaChunks([{ sourceId: 'IMG_9999.JPG', name: 'IMG_9999.JPG', mimeType: 'image/jpeg', bytes: file }], { maxChunkBytes: 512 * KIB, partBytes: 256 * KIB });
    expect(chunks).toHaveLength(3);
    const { content, ctx } = context();
    const joined: Uint8Array[] = [];
    for (const [index, chunk] of chunks.entries()) {
      const [item, ...more] = await mediaStrategy.processChunk(await bytesOf(chunk), ctx);
      expect(more).toEqual([]);
      expect(item).toMatchObject({ type: 'media', sourceId: 'IMG_9999.JPG', transforms: ['stored as is'], segment: { index, fileSize: file.byteLength } });
      expect(item?.skipReason).toBeUndefined();
      joined.push(await content.get('alice', item?.blob as string));
    }
    expect(Buffer.concat(joined).equals(Buffer.from(file))).toBe(true);
  });

  it('applies maxMediaSizeMB to the whole file, and records a file the device did not send', async () => {
    const part = encodeMediaEnvelope({ sourceId: 'v', name: 'v.mp4' }, randomBytes(64 * KIB), { index: 3, offset: 3 * 64 * KIB, fileSize: 3 * 1024 * KIB });
    const [capped] = await mediaStrategy.processChunk(part, context({ maxMediaSizeMB: 2 }).ctx);
    expect(capped).toMatchObject({ blob: null, skipReason: 'larger than 2 MB', originalSize: 64 * KIB });

    const [notSent] = await (async () => {
      const [placeholder] = await mediaChunks([{ sourceId: 'big', name: 'big.mov', bytes: randomBytes(300 * KIB) }], { maxFileBytes: 100 * KIB });
      return mediaStrategy.processChunk(await bytesOf(placeholder as UploadChunk), context().ctx);
    })();
    expect(notSent).toMatchObject({ sourceId: 'big', blob: null, originalSize: 300 * KIB, skipReason: "not sent: over the device's maxMediaSizeMB" });
  });

  it('refuses a part that claims to run past the end of its file', () => {
    const bad = encodeMediaEnvelope({ sourceId: 'x', name: 'x' }, new Uint8Array(10), { index: 0, offset: 95, fileSize: 100 });
    const decoded = decodeMediaEnvelope(bad);
    expect(decoded).toMatchObject({ ok: false, sourceId: 'x' });
    expect(decoded.ok ? '' : decoded.reason).toMatch(/passes the file's 100/);
  });
});
