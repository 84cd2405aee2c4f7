import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { MAX_MEDIA_CHUNK_BYTES } from '@lifeboat/client-sdk';
import { encodeMediaEnvelope, type MediaEnvelopeHeader } from '../../../client-sdk/src/media-envelope';
import { MAX_CHUNK_BYTES } from '@lifeboat/protocol';
import { ContentStore } from '../../src/core/content-store';
import { BackupOptions, type BackupOptionsInput, type ManifestItem } from '../../src/core/model';
import { decodeMediaEnvelope, MAX_INPUT_PIXELS, mediaMetaOf, mediaStrategy, planImageReencode, sniffMedia, STRATEGIES } from '../../src/strategies';
import { MapBlobStore } from '../fakes/map-blob-store';
import { libraryFields, readExifFields } from '../helpers/exif-fields';

const enc = (s: string) => new TextEncoder().encode(s);

/** Strategy options; the re-encoding mode unless the test names another (jobs always record theirs). */
function setup(input: BackupOptionsInput = {}) {
  const blobs = new MapBlobStore();
  const content = new ContentStore(blobs);
  return { blobs, content, ctx: { uid: 'alice', jobId: 'job-00001', options: BackupOptions.parse({ mediaMode: 'storageSaver', ...input }), content } };
}

const envelope = (bytes: Uint8Array, header: Partial<MediaEnvelopeHeader> = {}) =>
  encodeMediaEnvelope({ sourceId: 'asset-1', name: 'IMG_0001.JPG', mimeType: 'image/jpeg', ...header }, bytes);

async function run(bytes: Uint8Array, input: BackupOptionsInput = {}, header: Partial<MediaEnvelopeHeader> = {}) {
  const s = setup(input);
  const items = await mediaStrategy.processChunk(envelope(bytes, header), s.ctx);
  expect(items).toHaveLength(1);
  const item = items[0] as ManifestItem;
  const stored = item.blob === null ? null : Buffer.from(await s.content.get('alice', item.blob));
  return { item, stored, ...s };
}

/** Left half red, right half blue, so a rotation shows in the pixels. */
function halves(width: number, height: number): Buffer {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      if (x < width / 2) px[at] = 220;
      else px[at + 2] = 220;
      px[at + 1] = (x * 7 + y * 3) % 60; // a little texture, so JPEG quality shows in the size
    }
  }
  return px;
}

/** Deterministic noise: JPEG cannot shrink it, so a re-encode at a higher quality only grows. */
function noise(width: number, height: number, seed = 1): Buffer {
  const px = Buffer.alloc(width * height * 3);
  let s = seed;
  for (let i = 0; i < px.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    px[i] = s >>> 24;
  }
  return px;
}

const GPS = { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 30/1' };
/** What a phone writes: camera, capture date with its time zone offset (EXIF 2.31), location. */
const PHONE_EXIF = {
  IFD0: { Make: 'LifeboatCam', Model: 'LB-1 Pro', DateTime: '2024:05:01 12:34:56' },
  IFD2: { DateTimeOriginal: '2024:05:01 12:34:56', OffsetTime: '+02:00', OffsetTimeOriginal: '+02:00' },
  IFD3: GPS,
};

/**
 * A q95 JPEG as a phone takes it: EXIF orientation 6 (display rotated 90° clockwise), camera,
 * capture date and offset, GPS, and a Display P3 colour profile.
 */
async function phoneJpeg(width = 600, height = 400): Promise<Buffer> {
  return sharp(halves(width, height), { raw: { width, height, channels: 3 } })
    .withIccProfile('p3')
    .withMetadata({ orientation: 6 })
    .withExifMerge(PHONE_EXIF)
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** The decoded pixels of an image, to compare files whose metadata differs. */
const pixelsOf = async (image: Uint8Array) => (await sharp(image).raw().toBuffer()).toString('base64');

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A real 8x8 PNG whose IHDR claims width x height (CRC fixed up): a pixel bomb's header. */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 8, height: 8, channels: 3, background: 'white' } }).png().toBuffer());
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

describe('media envelope', () => {
  it('round-trips between the SDK encoder and the server decoder', () => {
    const body = new Uint8Array([1, 2, 3, 0, 255]);
    const decoded = decodeMediaEnvelope(encodeMediaEnvelope({ sourceId: 'a/b.jpg', name: 'b.jpg', takenAt: '2024-05-01T10:00:00Z' }, body));
    expect(decoded).toEqual({ ok: true, header: { sourceId: 'a/b.jpg', name: 'b.jpg', size: 5, takenAt: '2024-05-01T10:00:00Z' }, body });
    const full = { sourceId: 's', name: 'IMG 1.jpg', mimeType: 'image/jpeg', takenAt: '2024-05-01T10:00:00+02:00', createdAt: '2024-05-01T10:00:01Z', modifiedAt: '2024-05-02T08:00:00.5Z', album: 'Camera' };
    const again = decodeMediaEnvelope(encodeMediaEnvelope(full, body));
    expect(again).toEqual({ ok: true, header: { ...full, size: 5 }, body });
  });

  it('turns the header into the item\'s meta, dropping (with a warning) a time that is not ISO 8601', () => {
    const header = { sourceId: 's', name: 'IMG 1.jpg', mimeType: 'image/jpeg', size: 0, takenAt: '2024-05-01T10:00:00', createdAt: 'yesterday', modifiedAt: '2024-05-02T08:00:00Z', album: 'Camera' };
    expect(mediaMetaOf(header)).toEqual({
      meta: { name: 'IMG 1.jpg', mimeType: 'image/jpeg', takenAt: '2024-05-01T10:00:00', modifiedAt: '2024-05-02T08:00:00Z', album: 'Camera' },
      warnings: ['createdAt dropped: "yesterday" is not an ISO 8601 date and time'],
    });
    expect(mediaMetaOf({ sourceId: 's', name: '', size: 0 })).toEqual({ meta: undefined, warnings: [] });
  });

  it.each<[string, Uint8Array, RegExp]>([
    ['too short', enc('LBM1'), /shorter than 8/],
    ['wrong magic', enc('XXXX\0\0\0\x02{}'), /LBM1/],
    ['header length past the end', new Uint8Array([...enc('LBM1'), 0, 0, 1, 0, 0x7b]), /header length 256/],
    ['header not JSON', new Uint8Array([...enc('LBM1'), 0, 0, 0, 3, ...enc('{x}')]), /not JSON/],
    ['header missing sourceId', new Uint8Array([...enc('LBM1'), 0, 0, 0, 11, ...enc('{"size":0 }')]), /sourceId/],
  ])('refuses a bad envelope (%s) with a reason', (_name, bytes, reason) => {
    const decoded = decodeMediaEnvelope(bytes);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason).toMatch(reason);
  });

  it('refuses a size that does not match the bytes that follow, naming the source', () => {
    const bytes = envelope(enc('hello'));
    const decoded = decodeMediaEnvelope(bytes.subarray(0, bytes.byteLength - 1));
    expect(decoded).toEqual({ ok: false, reason: 'bad media envelope: header says 5 bytes, 4 follow', sourceId: 'asset-1' });
  });
});

describe('media strategy', () => {
  it('takes chunks up to the size the SDK sends whole files up to', () => {
    expect(MAX_CHUNK_BYTES).toBe(MAX_MEDIA_CHUNK_BYTES);
  });

  it('is registered, and its key changes with every option that changes the output', () => {
    expect(STRATEGIES.media).toBe(mediaStrategy);
    const key = (o: BackupOptionsInput) => mediaStrategy.strategyKey(BackupOptions.parse(o));
    expect(key({ mediaMode: 'original' })).toBe('o2:m500');
    expect(key({ mediaMode: 'storageSaver' })).toBe('s2:q75:m500');
    const keys = new Set([
      key({ mediaMode: 'storageSaver' }), key({ mediaMode: 'storageSaver', mediaQuality: 60 }), key({ mediaMode: 'original' }),
      key({ mediaMode: 'storageSaver', maxMediaSizeMB: 10 }), key({ mediaMode: 'storageSaver', stripLocation: true }),
      key({ mediaMode: 'original', stripLocation: true }), key({ mediaMode: 'storageSaver', maxImageDimension: 2048 }),
    ]);
    expect(keys.size).toBe(7);
    expect(key({ mediaMode: 'original', stripLocation: true })).toBe('o2:m500:nogps');
    // What does not change an original's bytes does not change its key.
    expect(key({ mediaMode: 'original', mediaQuality: 60, maxImageDimension: 1000 })).toBe(key({ mediaMode: 'original' }));
    expect(key({ mediaMode: 'storageSaver', wifiOnly: false })).toBe(key({ mediaMode: 'storageSaver' }));
    // compressMedia is the older name of the mode, and jobs from before modes record only it.
    expect(key({ compressMedia: false })).toBe(key({ mediaMode: 'original' }));
    expect(key({ compressMedia: true })).toBe(key({ mediaMode: 'storageSaver' }));
  });

  it('sniffs images by content, not by name', () => {
    expect(sniffMedia(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffMedia(new Uint8Array([0x89, ...enc('PNG\r\n\x1a\n....')]))).toBe('png');
    expect(sniffMedia(enc('RIFF\0\0\0\0WEBPVP8 '))).toBe('webp');
    expect(sniffMedia(new Uint8Array([0, 0, 0, 24, ...enc('ftypheic\0\0\0\0mif1heic')]))).toBe('heic');
    expect(sniffMedia(new Uint8Array([0, 0, 0, 24, ...enc('ftypavif\0\0\0\0mif1avif')]))).toBeNull();
    expect(sniffMedia(new Uint8Array([0, 0, 0, 24, ...enc('ftypisom\0\0\0\0isomiso2')]))).toBeNull();
    expect(sniffMedia(enc('just text'))).toBeNull();
  });

  it('storageSaver: auto-orients a phone JPEG and re-encodes it at the quality asked, keeping its metadata', async () => {
    const input = await phoneJpeg();
    const inMeta = await sharp(input).metadata();
    expect(inMeta).toMatchObject({ width: 600, height: 400, orientation: 6 });
    const inExif = readExifFields(inMeta.exif);
    expect(inExif).toMatchObject({ make: 'LifeboatCam', model: 'LB-1 Pro', dateTimeOriginal: '2024:05:01 12:34:56', offsetTimeOriginal: '+02:00', hasGps: true, gpsLatitude: '51/1 30/1 0/1' });

    const { item, stored, blobs } = await run(input);
    expect(item).toMatchObject({
      type: 'media', sourceId: 'asset-1', originalSize: input.byteLength,
      transforms: ['auto-oriented', 'jpeg q75', 'metadata kept'],
    });
    expect(item.warning).toBeUndefined();
    expect(item.skipReason).toBeUndefined();
    const out = stored as Buffer;
    expect(item.blobSize).toBe(out.byteLength);
    // Stored uncompressed (media is compressed already): the blob is the bytes plus the codec's frame.
    expect(item.storedSize).toBe([...blobs.objects.values()][0]?.byteLength);
    expect(item.storedSize).toBeLessThan(out.byteLength + 64);

    // The library's metadata comes through; the orientation is normalized, the colour profile kept.
    const outMeta = await sharp(out).metadata();
    expect(outMeta).toMatchObject({ format: 'jpeg', width: 400, height: 600, orientation: 1 });
    const outExif = readExifFields(outMeta.exif);
    expect(libraryFields(outExif)).toEqual(libraryFields(inExif));
    expect(outExif).toMatchObject({ orientation: 1, hasGps: true, gpsLatitude: '51/1 30/1 0/1' });
    expect(outMeta.icc).toEqual(inMeta.icc);

    // Upright: the red left half of the sensor is now the top half.
    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
    const [rTop, , bTop] = pixel(200, 60);
    const [rBottom, , bBottom] = pixel(200, 540);
    expect(rTop).toBeGreaterThan(150);
    expect(bTop).toBeLessThan(80);
    expect(bBottom).toBeGreaterThan(150);
    expect(rBottom).toBeLessThan(80);

    // Quality: smaller than the q95 input, and between the same pipeline's q50 and q85 outputs.
    expect(out.byteLength).toBeLessThan(input.byteLength);
    const at = (quality: number) => sharp(input).rotate().keepMetadata().jpeg({ quality, mozjpeg: true }).toBuffer();
    expect(out.byteLength).toBeGreaterThan((await at(50)).byteLength);
    expect(out.byteLength).toBeLessThan((await at(85)).byteLength);
  });

  it('storageSaver with stripLocation removes the GPS and keeps the rest of the metadata', async () => {
    const input = await phoneJpeg();
    const { item, stored } = await run(input, { stripLocation: true });
    expect(item.transforms).toEqual(['auto-oriented', 'jpeg q75', 'metadata kept', 'location removed']);
    expect(item.warning).toBeUndefined();
    const outMeta = await sharp(stored as Buffer).metadata();
    const outExif = readExifFields(outMeta.exif);
    expect(outExif.hasGps).toBe(false);
    expect(libraryFields(outExif)).toEqual(libraryFields(readExifFields((await sharp(input).metadata()).exif)));
    expect(outMeta.icc).toEqual((await sharp(input).metadata()).icc);
    // No coordinate is left anywhere in the file, not even unreferenced.
    const lat = Buffer.alloc(24);
    [51, 1, 30, 1, 0, 1].forEach((v, i) => lat.writeUInt32BE(v, i * 4));
    expect((stored as Buffer).includes(lat) || (stored as Buffer).includes(Buffer.from(lat.swap32()))).toBe(false);
  });

  it('original: stores the file byte for byte; with stripLocation only the GPS goes', async () => {
    const input = await phoneJpeg(300, 200);
    const { item, stored } = await run(input, { mediaMode: 'original' });
    expect(item.transforms).toEqual(['stored as is']);
    expect(stored?.equals(input)).toBe(true);

    const stripped = await run(input, { mediaMode: 'original', stripLocation: true });
    expect(stripped.item.transforms).toEqual(['location removed']);
    const out = stripped.stored as Buffer;
    // Same length, same pixels, same metadata but the location, same orientation (not re-encoded).
    expect(out.byteLength).toBe(input.byteLength);
    expect(await pixelsOf(out)).toBe(await pixelsOf(input));
    const before = await sharp(input).metadata();
    const after = await sharp(out).metadata();
    expect(readExifFields(after.exif)).toEqual({ ...readExifFields(before.exif), hasGps: false, gpsLatitude: undefined });
    expect(after.icc).toEqual(before.icc);
    // The bytes that differ all lie inside the EXIF block.
    const exifAt = input.indexOf(Buffer.from('Exif\0\0'));
    const differing = [...input.keys()].filter((i) => input[i] !== out[i]);
    expect(differing.length).toBeGreaterThan(0);
    expect(differing.every((i) => i > exifAt && i < exifAt + (before.exif as Buffer).byteLength)).toBe(true);
    expect(stripped.item.blob).not.toBe(item.blob);
  });

  it('removes GPS from XMP, PNG eXIf and WebP EXIF too, and from the Exif item of a HEIF (AVIF) file', async () => {
    const raw = { raw: { width: 64, height: 48, channels: 3 as const } };
    const xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
      + '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" exif:GPSLatitude="51,30.0N" xmp:Rating="5">'
      + '<exif:GPSLongitude>0,7.5W</exif:GPSLongitude></rdf:Description></rdf:RDF></x:xmpmeta>';
    const jpeg = await sharp(halves(64, 48), raw).withExif({ IFD0: { Make: 'LifeboatCam' }, IFD3: GPS }).withXmp(xmp).jpeg().toBuffer();
    const png = await sharp(halves(64, 48), raw).withExif({ IFD0: { Make: 'LifeboatCam' }, IFD3: GPS }).png().toBuffer();
    const webp = await sharp(halves(64, 48), raw).withExif({ IFD0: { Make: 'LifeboatCam' }, IFD3: GPS }).webp().toBuffer();
    const avif = await sharp(halves(64, 48), raw).withExif({ IFD0: { Make: 'LifeboatCam' }, IFD3: GPS }).avif({ effort: 0 }).toBuffer();
    for (const [name, file] of [['a.jpg', jpeg], ['a.png', png], ['a.webp', webp], ['a.avif', avif]] as const) {
      expect({ name, gps: readExifFields((await sharp(file).metadata()).exif).hasGps }).toEqual({ name, gps: true });
      const { item, stored } = await run(file, { mediaMode: 'original', stripLocation: true }, { name });
      const meta = await sharp(stored as Buffer).metadata();
      expect({ name, transforms: item.transforms, warning: item.warning, gps: readExifFields(meta.exif).hasGps, make: readExifFields(meta.exif).make })
        .toEqual({ name, transforms: ['location removed'], warning: undefined, gps: false, make: 'LifeboatCam' });
      expect(await pixelsOf(stored as Buffer)).toBe(await pixelsOf(file));
      if (name === 'a.jpg') {
        const text = (meta.xmp as Buffer).toString('latin1');
        expect(text).not.toMatch(/GPS/);
        expect(text).toContain('xmp:Rating="5"');
      }
    }
  });

  it('zeroes an EXIF block it cannot read (it may hold the location), saying so', async () => {
    const input = await phoneJpeg(64, 48);
    const broken = Buffer.from(input);
    const tiffAt = broken.indexOf(Buffer.from('Exif\0\0')) + 6;
    // IFD0 says it has more entries than fit before the end of the file.
    const little = broken.toString('latin1', tiffAt, tiffAt + 2) === 'II';
    const ifd0 = tiffAt + (little ? broken.readUInt32LE(tiffAt + 4) : broken.readUInt32BE(tiffAt + 4));
    broken.writeUInt16LE(0xffff, ifd0);
    const { item, stored } = await run(broken, { mediaMode: 'original', stripLocation: true });
    expect(item.transforms).toEqual(['location removed']);
    expect(item.warning).toMatch(/unreadable EXIF removed whole/);
    expect((stored as Buffer).includes(Buffer.from('LifeboatCam'))).toBe(false);
    expect(await pixelsOf(stored as Buffer)).toBe(await pixelsOf(input));
  });

  it('says so when it cannot take the location out of a file (a video)', async () => {
    const mp4 = new Uint8Array([0, 0, 0, 24, ...enc('ftypisom\0\0\0\0isomiso2'), ...new Uint8Array(64)]);
    const { item, stored } = await run(mp4, { mediaMode: 'original', stripLocation: true }, { name: 'clip.mp4' });
    expect(item).toMatchObject({ transforms: ['stored as is'], warning: 'location not removed: this file type is stored as it is' });
    expect(stored?.equals(mp4)).toBe(true);
    const text = enc('notes');
    expect((await run(text, { mediaMode: 'original', stripLocation: true })).item.warning).toBeUndefined();
  });

  it('carries the file\'s name, type, times and album onto its item, whole or in parts', async () => {
    const header = { name: 'IMG 0001.JPG', mimeType: 'image/jpeg', takenAt: '2024-05-01T12:34:56+02:00', modifiedAt: '2024-05-02T08:00:00Z', album: 'Camera' };
    const { item } = await run(enc('bytes'), { mediaMode: 'original' }, header);
    expect(item.meta).toEqual(header);
    const bad = await run(enc('bytes'), { mediaMode: 'original' }, { ...header, createdAt: 'not a date' });
    expect(bad.item.meta).toEqual(header);
    expect(bad.item.warning).toBe('createdAt dropped: "not a date" is not an ISO 8601 date and time');
    expect(bad.item.blob).toBe(item.blob);
    const s = setup({ mediaMode: 'original' });
    const part = encodeMediaEnvelope({ sourceId: 'big', ...header }, enc('part'), { index: 0, offset: 0, fileSize: 10 });
    expect((await mediaStrategy.processChunk(part, s.ctx))[0]?.meta).toEqual(header);
  });

  it('the quality follows mediaQuality, and the same file under other options gives another blob', async () => {
    const input = await phoneJpeg(300, 200);
    const low = await run(input, { mediaQuality: 50 });
    const high = await run(input, { mediaQuality: 85 });
    expect(low.item.transforms).toContain('jpeg q50');
    expect(high.item.transforms).toContain('jpeg q85');
    expect(low.item.blobSize).toBeLessThan(high.item.blobSize as number);
    expect(low.item.blob).not.toBe(high.item.blob);
  });

  it('keeps the original when the re-encode is not smaller (its metadata with it)', async () => {
    const raw = { raw: { width: 96, height: 96, channels: 3 as const } };
    const plain = await sharp(noise(96, 96), raw).jpeg({ quality: 50, mozjpeg: true }).toBuffer();
    const kept = await run(plain, { mediaQuality: 85 });
    expect(kept.item).toMatchObject({ transforms: ['original kept: re-encode not smaller'], blobSize: plain.byteLength });
    expect(kept.item.warning).toBeUndefined();
    expect(kept.stored?.equals(plain)).toBe(true);

    const withGps = await sharp(noise(96, 96), raw).withExif({ IFD3: GPS }).jpeg({ quality: 50, mozjpeg: true }).toBuffer();
    const keptGps = await run(withGps, { mediaQuality: 85 });
    expect(keptGps.item.transforms).toEqual(['original kept: re-encode not smaller']);
    expect(keptGps.item.warning).toBeUndefined();
    expect(keptGps.stored?.equals(withGps)).toBe(true);
    // Asked to, the location goes from a kept original too.
    const stripped = await run(withGps, { mediaQuality: 85, stripLocation: true });
    expect(stripped.item.transforms).toEqual(['original kept: re-encode not smaller', 'location removed']);
    expect(readExifFields((await sharp(stripped.stored as Buffer).metadata()).exif).hasGps).toBe(false);
  });

  it('stores a corrupt (truncated) JPEG as the original bytes with a warning', async () => {
    const whole = await phoneJpeg(300, 200);
    for (const cut of [0.7, 0.3]) {
      const truncated = whole.subarray(0, Math.floor(whole.byteLength * cut));
      const { item, stored } = await run(truncated);
      expect(item).toMatchObject({ originalSize: truncated.byteLength, transforms: ['stored as is'] });
      expect(item.warning).toMatch(/^corrupt image stored as original: \S/);
      expect(stored?.equals(truncated)).toBe(true);
    }
  });

  it('stores a zero-byte file as an empty blob', async () => {
    const { item, stored } = await run(new Uint8Array(0), {}, { name: 'empty.jpg' });
    expect(item).toMatchObject({ originalSize: 0, blobSize: 0, transforms: ['stored as is'] });
    expect(item.blob).toMatch(/^[0-9a-f]{64}$/);
    expect(stored?.byteLength).toBe(0);
  });

  it('never decodes a 20000 x 20000 pixel image header: the file is kept as it came', async () => {
    const bomb = await pngClaiming(20_000, 20_000);
    expect(20_000 * 20_000).toBeGreaterThan(MAX_INPUT_PIXELS);
    const { item, stored } = await run(bomb, {}, { name: 'bomb.png' });
    expect(item).toMatchObject({ transforms: ['original kept: not decoded'], warning: 'original kept: 20000 x 20000 pixels is over the 100 MP any decode may have' });
    expect(item.skipReason).toBeUndefined();
    expect(stored?.equals(bomb)).toBe(true);
  });

  describe('within a memory budget', () => {
    const MIB = 1024 * 1024;
    /** A budget leaving `mib` MiB for images. */
    const leaving = (mib: number) => ({ limitBytes: 100 * MIB, baselineBytes: 80 * MIB - mib * MIB });

    async function runWithin(bytes: Uint8Array, memory: { limitBytes: number; baselineBytes: number }, input: BackupOptionsInput = {}) {
      const s = setup(input);
      const [item] = await mediaStrategy.processChunk(envelope(bytes), { ...s.ctx, memory });
      const stored = item?.blob ? Buffer.from(await s.content.get('alice', item.blob)) : null;
      return { item: item as ManifestItem, stored };
    }

    it('keeps the original, naming the limit, when no decode of the image fits', async () => {
      const input = await phoneJpeg(1200, 800);
      const { item, stored } = await runWithin(input, leaving(16));
      expect(item.transforms).toEqual(['original kept: not decoded']);
      expect(item.warning).toMatch(/^original kept: re-encoding 1200 x 800 \(1\.0 MP\) needs about \d+ MiB, over the 16 MiB left for images of 100 MiB memory/);
      expect(stored?.equals(input)).toBe(true);
    });

    it('falls back to a baseline JPEG encoder (it streams) when mozjpeg would not fit', async () => {
      const input = await phoneJpeg(1200, 800);
      const plan = planImageReencode({ format: 'jpeg', width: 1200, height: 800, channels: 3, bytesPerSample: 1, orientation: 6, progressive: false, fileBytes: input.byteLength }, undefined, leaving(22));
      expect(plan).toMatchObject({ fits: true, encoder: 'baseline-jpeg' });
      const { item, stored } = await runWithin(input, leaving(22));
      expect(item.transforms).toEqual(['auto-oriented', 'jpeg q75', 'baseline encoder (memory)', 'metadata kept']);
      expect(await sharp(stored as Buffer).metadata()).toMatchObject({ format: 'jpeg', width: 800, height: 1200, isProgressive: false });
      // With room for mozjpeg, the same photo gets it (and comes out smaller).
      const best = await runWithin(input, leaving(60));
      expect(best.item.transforms).toEqual(['auto-oriented', 'jpeg q75', 'metadata kept']);
      expect((best.stored as Buffer).byteLength).toBeLessThan((stored as Buffer).byteLength);
    });

    it('counts on the resize coming before the turn when maxImageDimension asks for a smaller image', async () => {
      const input = await phoneJpeg(2400, 1600);
      expect((await runWithin(input, leaving(24))).item.transforms).toEqual(['original kept: not decoded']);
      const fitted = await runWithin(input, leaving(24), { maxImageDimension: 600 });
      expect(fitted.item.transforms).toContain('resized to fit 600 px');
      expect(await sharp(fitted.stored as Buffer).metadata()).toMatchObject({ width: 400, height: 600 });
    });
  });

  it('scales an image down to maxImageDimension after orienting it, keeping its aspect ratio', async () => {
    const input = await phoneJpeg(600, 400);
    const { item, stored } = await run(input, { maxImageDimension: 150 });
    expect(item.transforms).toEqual(['auto-oriented', 'resized to fit 150 px', 'jpeg q75', 'metadata kept']);
    // Upright 400 x 600 fitted into 150 x 150: 100 x 150.
    expect(await sharp(stored as Buffer).metadata()).toMatchObject({ width: 100, height: 150 });
    const small = await run(input, { maxImageDimension: 1000 });
    expect(small.item.transforms).not.toContain('resized to fit 1000 px');
    expect(await sharp(small.stored as Buffer).metadata()).toMatchObject({ width: 400, height: 600 });
    const key = (o: BackupOptionsInput) => mediaStrategy.strategyKey(BackupOptions.parse(o));
    expect(key({ mediaMode: 'storageSaver', maxImageDimension: 150 })).toBe('s2:q75:m500:d150');
  });

  it('skips a file over maxMediaSizeMB', async () => {
    const { item } = await run(new Uint8Array(2000), { maxMediaSizeMB: 0.001 });
    expect(item).toMatchObject({ blob: null, originalSize: 2000, skipReason: 'larger than 0.001 MB' });
  });

  it('stores non-image files as they are, whatever their name says', async () => {
    const text = enc('not a photo, despite the name\n');
    const { item, stored } = await run(text, {}, { name: 'holiday.jpg', mimeType: 'image/jpeg' });
    expect(item).toMatchObject({ transforms: ['stored as is'], blobSize: text.byteLength });
    expect(item.warning).toBeUndefined();
    expect(stored?.equals(text)).toBe(true);

    const mp4 = new Uint8Array([0, 0, 0, 24, ...enc('ftypisom\0\0\0\0isomiso2'), ...new Uint8Array(64)]);
    expect((await run(mp4, {}, { name: 'clip.mp4' })).item.transforms).toEqual(['stored as is']);
  });

  it('stores images as they are when compressMedia is off (the older name of the original mode)', async () => {
    const input = await phoneJpeg(300, 200);
    const { item, stored } = await run(input, { mediaMode: undefined, compressMedia: false });
    expect(item.transforms).toEqual(['stored as is']);
    expect(stored?.equals(input)).toBe(true);
  });

  it('stores HEIC as the original with a warning', async () => {
    const heic = new Uint8Array([0, 0, 0, 24, ...enc('ftypheic\0\0\0\0mif1heic'), 0, 0, 0, 8, ...enc('meta'), ...new Uint8Array(100)]);
    const { item, stored } = await run(heic, {}, { name: 'IMG_0002.HEIC', mimeType: 'image/heic' });
    expect(item).toMatchObject({ transforms: ['stored as is'], warning: 'HEIC stored as original (no decoder)' });
    expect(stored?.equals(heic)).toBe(true);
  });

  it('keeps PNG and WebP in their formats', async () => {
    const png = await sharp(halves(200, 100), { raw: { width: 200, height: 100, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
    const pngOut = await run(png, {}, { name: 'a.png' });
    expect(pngOut.item.transforms).toEqual(['png level 9', 'metadata kept']);
    expect((await sharp(pngOut.stored as Buffer).metadata()).format).toBe('png');

    const webp = await sharp(halves(200, 100), { raw: { width: 200, height: 100, channels: 3 } }).webp({ quality: 100 }).toBuffer();
    const webpOut = await run(webp, {}, { name: 'a.webp' });
    expect(webpOut.item.transforms).toEqual(['webp q75', 'metadata kept']);
    expect((await sharp(webpOut.stored as Buffer).metadata()).format).toBe('webp');
  });

  it('turns a bad envelope into one skipped item, never a throw', async () => {
    const { ctx } = setup();
    const items = await mediaStrategy.processChunk(enc('definitely not an envelope'), ctx);
    expect(items).toEqual([{
      type: 'media', sourceId: 'chunk', blob: null, originalSize: 26, storedSize: 0, transforms: [],
      skipReason: 'bad media envelope: does not start with LBM1',
    }]);
  });
});

describe('media strategy on real photos (../shared/fixtures/photos)', () => {
  const dir = resolve(__dirname, '../../../../shared/fixtures/photos');
  const present = existsSync(dir);
  if (!present) console.warn('skipping: ../shared/fixtures/photos not found');
  const maybe = present ? it : it.skip;
  const jpegs = (sub: string) => (present ? readdirSync(join(dir, sub)).filter((f) => f.toLowerCase().endsWith('.jpg')).sort() : []);

  maybe('storageSaver outputs every orientation upright, with orientation 1 and the camera\'s metadata', async () => {
    const files = jpegs('orientation');
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const input = readFileSync(join(dir, 'orientation', file));
      const { item, stored } = await run(input, {}, { sourceId: file, name: file });
      const meta = await sharp(stored as Buffer).metadata();
      expect({ file, transforms: item.transforms, orientation: meta.orientation }).toMatchObject({
        file, transforms: expect.arrayContaining(['metadata kept']), orientation: 1,
      });
      expect({ file, fields: libraryFields(readExifFields(meta.exif)) }).toEqual({ file, fields: libraryFields(readExifFields((await sharp(input).metadata()).exif)) });
      if (file.startsWith('landscape')) expect({ file, wide: meta.width > meta.height }).toEqual({ file, wide: true });
      else expect({ file, tall: meta.height > meta.width }).toEqual({ file, tall: true });
    }
  });

  maybe('keeps capture date, camera, colour profile and GPS of phone photos in both modes; stripLocation removes only the GPS', async () => {
    const files = [...jpegs('gps').map((f) => join('gps', f)), ...jpegs('mobile').map((f) => join('mobile', f))];
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const input = readFileSync(join(dir, file));
      const before = await sharp(input).metadata();
      const fields = readExifFields(before.exif);
      for (const mode of ['original', 'storageSaver'] as const) {
        for (const stripLocation of [false, true]) {
          const { item, stored } = await run(input, { mediaMode: mode, stripLocation }, { sourceId: file, name: file });
          const after = await sharp(stored as Buffer).metadata();
          const got = readExifFields(after.exif);
          const what = { file, mode, stripLocation };
          expect({ ...what, fields: libraryFields(got), icc: after.icc?.byteLength }).toEqual({ ...what, fields: libraryFields(fields), icc: before.icc?.byteLength });
          expect({ ...what, gps: got.hasGps, latitude: got.gpsLatitude }).toEqual({ ...what, gps: fields.hasGps && !stripLocation, latitude: stripLocation ? undefined : fields.gpsLatitude });
          if (mode === 'original' && !stripLocation) expect({ ...what, identical: (stored as Buffer).equals(input) }).toEqual({ ...what, identical: true });
          if (mode === 'original' && stripLocation && fields.hasGps) expect({ ...what, transforms: item.transforms, pixels: await pixelsOf(stored as Buffer) === await pixelsOf(input) }).toEqual({ ...what, transforms: ['location removed'], pixels: true });
        }
      }
    }
  });
});
