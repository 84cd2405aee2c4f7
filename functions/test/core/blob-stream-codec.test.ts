/**
 * The streamed blob format (`LBB2`, core/blob-codec.ts and blob-stream-codec.ts): round trips in
 * odd piece sizes, the old format still read, and every kind of tampering refused with
 * `data-loss`: a flipped byte in any segment, a truncated final segment, a stream cut at a
 * segment boundary, segments reordered or repeated, any header field changed.
 */
import { randomBytes } from 'node:crypto';
import { decodeBlob, encodeBlob, FLAG_GZIP, newHeaderV2, openSegment, sealSegment, segmentKey, TAG_LENGTH, V2_ENCRYPTED_HEADER_LENGTH, V2_HEADER_LENGTH } from '../../src/core/blob-codec';
import { encodeBlobStream, gzipStream, openStoredBlob } from '../../src/core/blob-stream-codec';
import { readAll } from '../../src/ports/blob-store';
import { encodeLegacyBlob } from '../fakes/legacy-blob';

const SEGMENT = 64 * 1024;
const key = new Uint8Array(randomBytes(32));

async function* inPieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size);
}

async function encode(plaintext: Uint8Array, options: { gzip?: boolean; key?: Uint8Array; piece?: number } = {}): Promise<Uint8Array> {
  const source = inPieces(plaintext, options.piece ?? 10_000);
  const payload = options.gzip ? gzipStream(source) : source;
  return readAll(encodeBlobStream(payload, { plaintextSize: plaintext.byteLength, gzipped: options.gzip ?? false, ...(options.key ? { key: options.key } : {}) }));
}

async function decode(stored: Uint8Array, options: { key?: Uint8Array; piece?: number } = {}): Promise<Uint8Array> {
  const opened = await openStoredBlob(inPieces(stored, options.piece ?? 7_919), async () => options.key);
  return readAll(opened.plaintext);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'no error';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

/** The error of a decode that must fail at a segment's tag (not later, at the size or gzip checks). */
async function tagFailure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'no error';
  } catch (err) {
    const { code, message } = err as { code?: string; message: string };
    return code === 'data-loss' && /segment \d+( \(final\))? does not decrypt/.test(message) ? 'tag' : `${code}: ${message}`;
  }
}

/** The sealed segments of an encrypted, uncompressed blob, and its header. */
function split(stored: Uint8Array): { header: Uint8Array; segments: Uint8Array[] } {
  const header = stored.subarray(0, V2_ENCRYPTED_HEADER_LENGTH);
  const segments: Uint8Array[] = [];
  for (let at = V2_ENCRYPTED_HEADER_LENGTH; at < stored.byteLength; at += SEGMENT + TAG_LENGTH) segments.push(stored.subarray(at, at + SEGMENT + TAG_LENGTH));
  return { header, segments };
}

const join = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

describe('streamed blob format (LBB2)', () => {
  const sizes = [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 3 * SEGMENT + 12_345];

  it.each(sizes)('round-trips %i bytes encrypted, gzipped, both and neither, whatever the piece sizes', async (size) => {
    const plaintext = new Uint8Array(randomBytes(size));
    for (const options of [{}, { key }, { gzip: true }, { gzip: true, key }]) {
      for (const piece of [1_000_003, 4_096, 65_537]) {
        const stored = await encode(plaintext, { ...options, piece });
        expect(Buffer.from(await decode(stored, { ...options, piece: 3_001 })).equals(Buffer.from(plaintext))).toBe(true);
        // The whole-buffer decoder reads what the stream wrote.
        expect(Buffer.from(decodeBlob(stored, options)).equals(Buffer.from(plaintext))).toBe(true);
      }
    }
  });

  it('writes one sealed segment per 64 KiB, the last one short, and the size in the header', async () => {
    const plaintext = new Uint8Array(randomBytes(2 * SEGMENT + 100));
    const stored = await encode(plaintext, { key });
    expect(stored.byteLength).toBe(V2_ENCRYPTED_HEADER_LENGTH + plaintext.byteLength + 3 * TAG_LENGTH);
    const opened = await openStoredBlob(inPieces(stored, 50_000), async () => key);
    expect(opened).toMatchObject({ version: 2, encrypted: true, size: plaintext.byteLength });
    await opened.close();
    // Unencrypted: the header, then the plaintext as it is.
    const clear = await encode(plaintext);
    expect(clear.byteLength).toBe(V2_HEADER_LENGTH + plaintext.byteLength);
    expect(Buffer.from(clear.subarray(V2_HEADER_LENGTH)).equals(Buffer.from(plaintext))).toBe(true);
  });

  it('reads what the whole-buffer encoder writes, and gzips text smaller', async () => {
    const text = new TextEncoder().encode('{"id":"c1","name":"Ann"}\n'.repeat(20_000));
    const stored = encodeBlob(text, { key });
    expect(stored.byteLength).toBeLessThan(text.byteLength / 10);
    expect(Buffer.from(await decode(stored, { key })).equals(Buffer.from(text))).toBe(true);
    const streamed = await encode(text, { key, gzip: true });
    expect(streamed.byteLength).toBeLessThan(text.byteLength / 10);
    expect(Buffer.from(await decode(streamed, { key })).equals(Buffer.from(text))).toBe(true);
  });

  it('still reads version 1 (LBB1) blobs, streamed and whole, in every flag combination', async () => {
    const text = new TextEncoder().encode('old blob, written before segments\n'.repeat(5_000));
    const noise = new Uint8Array(randomBytes(200_000));
    for (const plaintext of [text, noise, new Uint8Array(0)]) {
      for (const options of [{}, { key }, { compress: false }, { compress: false, key }]) {
        const stored = encodeLegacyBlob(plaintext, options);
        expect(Buffer.from(await decode(stored, options)).equals(Buffer.from(plaintext))).toBe(true);
        expect(Buffer.from(decodeBlob(stored, options)).equals(Buffer.from(plaintext))).toBe(true);
      }
    }
    const opened = await openStoredBlob(inPieces(encodeLegacyBlob(text, { key }), 1000), async () => key);
    expect(opened).toMatchObject({ version: 1, encrypted: true, size: null });
    await opened.close();
  });

  it('refuses a version 1 blob with a flipped byte or a cut tag', async () => {
    const stored = encodeLegacyBlob(new Uint8Array(randomBytes(100_000)), { key });
    for (const at of [5, 20, 50_000, stored.byteLength - 1]) {
      const flipped = new Uint8Array(stored);
      flipped[at] = (flipped[at] ?? 0) ^ 0x10;
      expect(await codeOf(decode(flipped, { key }))).toBe('data-loss');
    }
    expect(await codeOf(decode(stored.subarray(0, stored.byteLength - 3), { key }))).toBe('data-loss');
  });

  describe('refuses tampering with data-loss', () => {
    const plaintext = new Uint8Array(randomBytes(3 * SEGMENT + 5_000));
    let stored: Uint8Array;
    beforeAll(async () => {
      stored = await encode(plaintext, { key });
    });

    it('a flipped byte in any segment, in its ciphertext or its tag', async () => {
      const { segments } = split(stored);
      expect(segments).toHaveLength(4);
      let offset = V2_ENCRYPTED_HEADER_LENGTH;
      for (const segment of segments) {
        for (const within of [0, segment.byteLength - TAG_LENGTH - 1, segment.byteLength - 1]) {
          const flipped = new Uint8Array(stored);
          flipped[offset + within] = (flipped[offset + within] ?? 0) ^ 0x01;
          expect(await codeOf(decode(flipped, { key }))).toBe('data-loss');
        }
        offset += segment.byteLength;
      }
    });

    it('a truncated final segment, a stream cut at a segment boundary, or bytes added', async () => {
      const { header, segments } = split(stored);
      expect(await codeOf(decode(stored.subarray(0, stored.byteLength - 1), { key }))).toBe('data-loss');
      expect(await codeOf(decode(stored.subarray(0, stored.byteLength - (segments.at(-1)?.byteLength ?? 0) + TAG_LENGTH), { key }))).toBe('data-loss');
      // Cut after a whole segment: what is left ends on a segment not sealed as final, whose tag
      // fails (before the header's size would tell).
      for (let keep = 1; keep < segments.length; keep++) expect(await tagFailure(decode(join(header, ...segments.slice(0, keep)), { key }))).toBe('tag');
      expect(await codeOf(decode(header, { key }))).toBe('data-loss');
      expect(await codeOf(decode(join(stored, new Uint8Array([0])), { key }))).toBe('data-loss');
    });

    it('segments reordered, repeated or dropped', async () => {
      const { header, segments } = split(stored);
      const [s0, s1, s2, s3] = segments as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
      for (const order of [[s1, s0, s2, s3], [s0, s2, s1, s3], [s0, s0, s1, s2, s3], [s0, s1, s1, s2, s3], [s0, s2, s3], [s0, s1, s2, s3, s3], [s0, s1, s3, s2]]) {
        expect(await tagFailure(decode(join(header, ...order), { key }))).toBe('tag');
      }
      // A segment from another blob under the same key: another salt, so another segment key.
      const other = split(await encode(plaintext, { key }));
      expect(await codeOf(decode(join(header, s0, other.segments[1] as Uint8Array, s2, s3), { key }))).toBe('data-loss');
    });

    it('any header field changed: a flag, the segment size, the plaintext size, the salt', async () => {
      // The header is every segment's associated data: the first segment's tag fails.
      for (const [at, mask] of [[4, FLAG_GZIP], [5, 0x01], [13, 0x01], [7, 0x01], [14, 0x01], [29, 0x80]] as const) {
        const changed = new Uint8Array(stored);
        changed[at] = (changed[at] ?? 0) ^ mask;
        expect(await tagFailure(decode(changed, { key }))).toBe('tag');
      }
      const unknownFlag = new Uint8Array(stored);
      unknownFlag[4] = (unknownFlag[4] ?? 0) | 0x80;
      expect(await codeOf(decode(unknownFlag, { key }))).toBe('data-loss');
    });

    it('a wrong key; and a missing key is failed-precondition', async () => {
      expect(await codeOf(decode(stored, { key: new Uint8Array(randomBytes(32)) }))).toBe('data-loss');
      expect(await codeOf(decode(stored))).toBe('failed-precondition');
      expect(await codeOf(decode(new TextEncoder().encode('not a blob at all')))).toBe('data-loss');
    });

    it('an unencrypted blob whose size does not match its header', async () => {
      const clear = await encode(plaintext);
      expect(await codeOf(decode(clear.subarray(0, clear.byteLength - 10)))).toBe('data-loss');
      expect(await codeOf(decode(join(clear, new Uint8Array(3))))).toBe('data-loss');
      const gz = await encode(new TextEncoder().encode('x'.repeat(100_000)), { gzip: true });
      expect(await codeOf(decode(gz.subarray(0, gz.byteLength - 4)))).toBe('data-loss');
    });

    it('releases no byte of a segment before its tag is checked', async () => {
      const flipped = new Uint8Array(stored);
      const at = V2_ENCRYPTED_HEADER_LENGTH + SEGMENT + TAG_LENGTH + 5; // in segment 1
      flipped[at] = (flipped[at] ?? 0) ^ 0x01;
      const opened = await openStoredBlob(inPieces(flipped, 1_000), async () => key);
      let released = 0;
      await expect((async () => {
        for await (const piece of opened.plaintext) released += piece.byteLength;
      })()).rejects.toMatchObject({ code: 'data-loss' });
      expect(released).toBe(SEGMENT);
    });
  });

  it('binds the index and the final flag into each segment', () => {
    const header = newHeaderV2({ gzip: false, encrypted: true, plaintextSize: 10 });
    const k = segmentKey(key, header);
    const sealed = sealSegment(k, header, 3, false, new Uint8Array(10));
    expect(openSegment(k, header, 3, false, sealed).byteLength).toBe(10);
    expect(() => openSegment(k, header, 3, true, sealed)).toThrow(expect.objectContaining({ code: 'data-loss' }));
    expect(() => openSegment(k, header, 2, false, sealed)).toThrow(expect.objectContaining({ code: 'data-loss' }));
    const final = sealSegment(k, header, 0, true, new Uint8Array(10));
    expect(() => openSegment(k, header, 0, false, final)).toThrow(expect.objectContaining({ code: 'data-loss' }));
    const otherHeader = newHeaderV2({ gzip: false, encrypted: true, plaintextSize: 10 });
    expect(() => openSegment(segmentKey(key, otherHeader), otherHeader, 0, true, final)).toThrow(expect.objectContaining({ code: 'data-loss' }));
  });

  it('an encoder whose payload fails yields no final segment', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(3 * SEGMENT);
      throw new Error('source broke');
    }
    const seen: Uint8Array[] = [];
    await expect((async () => {
      for await (const piece of encodeBlobStream(failing(), { plaintextSize: 4 * SEGMENT, key })) seen.push(piece);
    })()).rejects.toThrow('source broke');
    // Header and the two segments known not to be last (ciphertext, tag); the third waits to learn whether it is.
    expect(seen.map((p) => p.byteLength)).toEqual([V2_ENCRYPTED_HEADER_LENGTH, SEGMENT, TAG_LENGTH, SEGMENT, TAG_LENGTH]);
  });
});
