import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobFileSource } from '../src/blob-file-source';
import { BackupClientError } from '../src/errors';
import { encodeMediaEnvelope, encodeMediaEnvelopeHead } from '../src/media-envelope';
import { isInMemory, mediaChunks, type StreamedChunk, type UploadChunk } from '../src/media-file';
import { nodeFileSource } from '../src/node/file-source';
import type { FileSource } from '../src/ports';

const KIB = 1024;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-media-file-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Wraps a FileSource and records every read, to show nothing reads more than a piece. */
function recording(inner: FileSource) {
  const reads: number[] = [];
  let open = 0;
  const source: FileSource = {
    async open(path) {
      const file = await inner.open(path);
      open += 1;
      return {
        size: file.size,
        read: async (offset, length) => {
          reads.push(length);
          return file.read(offset, length);
        },
        close: async () => {
          open -= 1;
          await file.close();
        },
      };
    },
  };
  return { source, reads, openHandles: () => open };
}

async function readChunk(chunk: UploadChunk, piece: number): Promise<Buffer> {
  if (isInMemory(chunk)) return Buffer.from(chunk.bytes);
  const reader = await (chunk as StreamedChunk).open();
  const parts: Buffer[] = [];
  try {
    for (let at = 0; at < chunk.size; at += piece) parts.push(Buffer.from(await reader.read(at, Math.min(piece, chunk.size - at))));
  } finally {
    await reader.close();
  }
  return Buffer.concat(parts);
}

/** Splits an LBM1 envelope into its header and body. */
function envelope(bytes: Buffer): { header: Record<string, any>; body: Buffer } {
  expect(bytes.subarray(0, 4).toString()).toBe('LBM1');
  const length = bytes.readUInt32BE(4);
  return { header: JSON.parse(bytes.subarray(8, 8 + length).toString()), body: bytes.subarray(8 + length) };
}

describe('media files as streamed chunks', () => {
  it('splits a file over the chunk limit into parts of at most partBytes, reading one piece at a time', async () => {
    const file = randomBytes(1300 * KIB + 17);
    const path = join(dir, 'video.mp4');
    writeFileSync(path, file);
    const { source, reads, openHandles } = recording(nodeFileSource());
    const chunks = await mediaChunks([{ sourceId: 'DCIM/VID_1.mp4', name: 'VID_1.mp4', mimeType: 'video/mp4', path }], {
      fileSource: source, maxChunkBytes: 512 * KIB, partBytes: 256 * KIB, readBytes: 64 * KIB,
    });
    expect(chunks.length).toBe(6);
    expect(Math.max(...reads)).toBeLessThanOrEqual(64 * KIB);
    expect(openHandles()).toBe(0);

    const bodies: Buffer[] = [];
    for (const [index, chunk] of chunks.entries()) {
      expect(isInMemory(chunk)).toBe(false);
      expect(chunk.size).toBeLessThanOrEqual(256 * KIB);
      const bytes = await readChunk(chunk, 100 * KIB);
      expect(bytes.byteLength).toBe(chunk.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(chunk.id);
      const { header, body } = envelope(bytes);
      expect(header).toMatchObject({ sourceId: 'DCIM/VID_1.mp4', size: body.byteLength, segment: { index, offset: bodies.reduce((n, b) => n + b.byteLength, 0), fileSize: file.byteLength } });
      bodies.push(body);
    }
    // Every part but the last fills its chunk exactly: one request per part when partBytes is the piece size.
    expect(chunks.slice(0, -1).every((c) => c.size === 256 * KIB)).toBe(true);
    expect(Buffer.concat(bodies).equals(file)).toBe(true);
    expect(openHandles()).toBe(0);
  });

  it('keeps a file that fits one chunk whole (the server may re-encode it), with the id of its envelope', async () => {
    const file = randomBytes(300 * KIB);
    const path = join(dir, 'photo.jpg');
    writeFileSync(path, file);
    const [chunk, ...rest] = await mediaChunks([{ sourceId: 'p', name: 'photo.jpg', path }], { fileSource: nodeFileSource(), readBytes: 64 * KIB });
    expect(rest).toEqual([]);
    const expected = encodeMediaEnvelope({ sourceId: 'p', name: 'photo.jpg' }, file);
    expect(chunk?.id).toBe(createHash('sha256').update(expected).digest('hex'));
    expect((await readChunk(chunk as UploadChunk, 128 * KIB)).equals(Buffer.from(expected))).toBe(true);
  });

  it('gives the same chunks for a path, a Blob and bytes in memory over the limit', async () => {
    const file = randomBytes(700 * KIB);
    const path = join(dir, 'same.bin');
    writeFileSync(path, file);
    const options = { maxChunkBytes: 512 * KIB, partBytes: 256 * KIB };
    const fromPath = await mediaChunks([{ sourceId: 's', name: 'same.bin', path }], { ...options, fileSource: nodeFileSource() });
    const fromBlob = await mediaChunks([{ sourceId: 's', name: 'same.bin', path: 'picked' }], { ...options, fileSource: blobFileSource((p) => (p === 'picked' ? new Blob([file]) : undefined)) });
    const fromBytes = await mediaChunks([{ sourceId: 's', name: 'same.bin', bytes: file }], options);
    expect(fromPath.map((c) => c.id)).toEqual(fromBlob.map((c) => c.id));
    expect(fromPath.map((c) => c.id)).toEqual(fromBytes.map((c) => c.id));
    expect(fromPath.length).toBe(3);
  });

  it('refuses to upload a file that changed size after it was hashed', async () => {
    const path = join(dir, 'growing.log');
    writeFileSync(path, randomBytes(600 * KIB));
    const [first] = await mediaChunks([{ sourceId: 'g', name: 'growing.log', path }], { fileSource: nodeFileSource(), maxChunkBytes: 512 * KIB, partBytes: 256 * KIB });
    writeFileSync(path, randomBytes(601 * KIB));
    await expect((first as StreamedChunk).open()).rejects.toMatchObject({ code: 'backup/failed-precondition' });
  });

  it('names a file over maxFileBytes with one empty part and never reads it', async () => {
    const path = join(dir, 'huge.mov');
    writeFileSync(path, randomBytes(200 * KIB));
    const { source, reads } = recording(nodeFileSource());
    const chunks = await mediaChunks([{ sourceId: 'h', name: 'huge.mov', path }], { fileSource: source, maxFileBytes: 100 * KIB });
    expect(reads).toEqual([]);
    expect(chunks.length).toBe(1);
    const { header, body } = envelope(await readChunk(chunks[0] as UploadChunk, 64 * KIB));
    expect(header).toMatchObject({ size: 0, segment: { index: 0, offset: 0, fileSize: 200 * KIB } });
    expect(body.byteLength).toBe(0);
  });

  it('reports a missing file and a path without a fileSource as typed errors', async () => {
    await expect(mediaChunks([{ sourceId: 'x', name: 'x', path: join(dir, 'nope') }], { fileSource: nodeFileSource() })).rejects.toMatchObject({ code: 'backup/not-found' });
    await expect(mediaChunks([{ sourceId: 'x', name: 'x', path: 'a' }])).rejects.toBeInstanceOf(BackupClientError);
  });
});

describe('default threshold', () => {
  /** A file of zeros of any size that allocates only what is read. */
  const zeros = (size: number): FileSource => ({
    async open() {
      return { size, read: async (offset, length) => new Uint8Array(Math.max(0, Math.min(length, size - offset))), close: async () => undefined };
    },
  });

  it('sends a file whose envelope passes 16 MiB in parts of at most 8 MiB, one that fits as one chunk', async () => {
    const MIB = 1024 * KIB;
    const head = encodeMediaEnvelopeHead({ sourceId: 'v', name: 'v.mp4' }, 16 * MIB - 100).byteLength;
    const fits = await mediaChunks([{ sourceId: 'v', name: 'v.mp4', path: 'x' }], { fileSource: zeros(16 * MIB - head) });
    expect(fits.map((c) => c.size)).toEqual([16 * MIB]);
    const parts = await mediaChunks([{ sourceId: 'v', name: 'v.mp4', path: 'x' }], { fileSource: zeros(16 * MIB) });
    expect(parts).toHaveLength(3);
    expect(Math.max(...parts.map((c) => c.size))).toBeLessThanOrEqual(8 * MIB);
  });
});
