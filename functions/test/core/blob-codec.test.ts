import { decodeBlob, encodeBlob } from '../../src/core/blob-codec';
import { decodeManifest, encodeManifest } from '../../src/core/manifest';
import { MANIFEST_FORMAT, type ManifestItem } from '../../src/core/model';
import { LifeboatError } from '../../src/core/errors';
import { randomBytes } from 'node:crypto';

describe('blob codec', () => {
  it('round-trips compressible bytes gzipped and smaller', () => {
    const text = new TextEncoder().encode('hello lifeboat\n'.repeat(1000));
    const stored = encodeBlob(text);
    expect(stored.byteLength).toBeLessThan(text.byteLength / 10);
    expect(Buffer.from(decodeBlob(stored)).equals(Buffer.from(text))).toBe(true);
  });

  it('keeps incompressible bytes as they are (header only)', () => {
    const noise = new Uint8Array(randomBytes(4096));
    const stored = encodeBlob(noise);
    expect(stored.byteLength).toBe(noise.byteLength + 14);
    expect(Buffer.from(decodeBlob(stored)).equals(Buffer.from(noise))).toBe(true);
  });

  it('refuses bytes without the header, unknown flags, or broken gzip with data-loss', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as LifeboatError).code;
      }
      return 'no error';
    };
    expect(code(() => decodeBlob(new TextEncoder().encode('plain')))).toBe('data-loss');
    const flagged = encodeBlob(new Uint8Array([1, 2, 3]), { compress: false });
    flagged[4] = 0x80;
    expect(code(() => decodeBlob(flagged))).toBe('data-loss');
    const gz = encodeBlob(new TextEncoder().encode('a'.repeat(500)));
    expect(code(() => decodeBlob(gz.subarray(0, gz.byteLength - 4)))).toBe('data-loss');
  });
});

describe('manifest', () => {
  const header = { format: MANIFEST_FORMAT, snapshotId: 's', jobId: 'j', uid: 'u', deviceId: 'd', createdAt: 1, types: ['contacts' as const], items: 2 };
  const items: ManifestItem[] = [
    { type: 'contacts', sourceId: 'a', blob: 'a'.repeat(64), part: 0, originalSize: 10, storedSize: 4, transforms: ['normalized'] },
    { type: 'contacts', sourceId: 'line:2', blob: null, originalSize: 3, storedSize: 0, transforms: [], skipReason: 'line 2: not JSON' },
  ];

  it('round-trips', () => {
    expect(decodeManifest(encodeManifest(header, items))).toEqual({ header, items });
  });

  it('names the first corrupt line and catches a truncated manifest', () => {
    const bytes = encodeManifest(header, items);
    const text = new TextDecoder().decode(bytes);
    const broken = new TextEncoder().encode(text.replace('"sourceId":"a"', '"sourceId":'));
    expect(() => decodeManifest(broken)).toThrow(/manifest line 2 is corrupt/);
    const truncated = new TextEncoder().encode(text.split('\n').slice(0, 2).join('\n') + '\n');
    expect(() => decodeManifest(truncated)).toThrow(/lists 1 items, its header says 2/);
  });
});
