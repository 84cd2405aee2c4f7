import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { encodeMediaEnvelope, MAX_MEDIA_CHUNK_BYTES, type MediaEnvelopeHeader } from '@lifeboat/client-sdk';
import { MAX_CHUNK_BYTES } from '../../src/core/api/schemas';
import { ContentStore } from '../../src/core/content-store';
import { BackupOptions, type BackupOptionsInput, type ManifestItem } from '../../src/core/model';
import { decodeMediaEnvelope, MAX_INPUT_PIXELS, mediaStrategy, planImageReencode, sniffMedia, STRATEGIES } from '../../src/strategies';
import { MapBlobStore } from '../fakes/map-blob-store';

const enc = (s: string) => new TextEncoder().encode(s);

function setup(input: BackupOptionsInput = {}) {
  const blobs = new MapBlobStore();
  const content = new ContentStore(blobs);
  return { blobs, content, ctx: { uid: 'alice', jobId: 'job-00001', options: BackupOptions.parse(input), content } };
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

/** A q95 JPEG with EXIF orientation 6 (display rotated 90° clockwise), a camera make and GPS. */
async function phoneJpeg(width = 600, height = 400): Promise<Buffer> {
  return sharp(halves(width, height), { raw: { width, height, channels: 3 } })
    .withMetadata({ orientation: 6 })
    .withExif({ IFD0: { Make: 'LifeboatCam' }, IFD3: GPS })
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** The GPS IFD pointer tag (0x8825) in either byte order. */
const hasGpsTag = (exif: Buffer | undefined) =>
  exif !== undefined && (exif.includes(Buffer.from([0x25, 0x88])) || exif.includes(Buffer.from([0x88, 0x25])));

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
    expect(key({})).toBe('v1:q75:c1:m500');
    const keys = new Set([key({}), key({ mediaQuality: 60 }), key({ compressMedia: false }), key({ maxMediaSizeMB: 10 })]);
    expect(keys.size).toBe(4);
    expect(key({ wifiOnly: false })).toBe(key({}));
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

  it('auto-orients a phone JPEG, strips EXIF and GPS, and re-encodes it at the quality asked', async () => {
    const input = await phoneJpeg();
    const inMeta = await sharp(input).metadata();
    expect(inMeta).toMatchObject({ width: 600, height: 400, orientation: 6 });
    expect(hasGpsTag(inMeta.exif)).toBe(true);

    const { item, stored, blobs } = await run(input);
    expect(item).toMatchObject({
      type: 'media', sourceId: 'asset-1', originalSize: input.byteLength,
      transforms: ['auto-oriented', 'jpeg q75', 'metadata stripped'],
    });
    expect(item.warning).toBeUndefined();
    expect(item.skipReason).toBeUndefined();
    const out = stored as Buffer;
    expect(item.blobSize).toBe(out.byteLength);
    // Stored uncompressed (media is compressed already): the blob is the bytes plus the codec's frame.
    expect(item.storedSize).toBe([...blobs.objects.values()][0]?.byteLength);
    expect(item.storedSize).toBeLessThan(out.byteLength + 64);

    const outMeta = await sharp(out).metadata();
    expect(outMeta).toMatchObject({ format: 'jpeg', width: 400, height: 600 });
    expect(outMeta.orientation).toBeUndefined();
    expect(outMeta.exif).toBeUndefined();
    expect(out.includes(Buffer.from('LifeboatCam'))).toBe(false);

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
    const at = (quality: number) => sharp(input).rotate().keepIccProfile().jpeg({ quality, mozjpeg: true }).toBuffer();
    expect(out.byteLength).toBeGreaterThan((await at(50)).byteLength);
    expect(out.byteLength).toBeLessThan((await at(85)).byteLength);
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

  it('keeps the original when the re-encode is not smaller, warning when it still carries metadata', async () => {
    const raw = { raw: { width: 96, height: 96, channels: 3 as const } };
    const plain = await sharp(noise(96, 96), raw).jpeg({ quality: 50, mozjpeg: true }).toBuffer();
    const kept = await run(plain, { mediaQuality: 85 });
    expect(kept.item).toMatchObject({ transforms: ['original kept: re-encode not smaller'], blobSize: plain.byteLength });
    expect(kept.item.warning).toBeUndefined();
    expect(kept.stored?.equals(plain)).toBe(true);

    const withGps = await sharp(noise(96, 96), raw).withExif({ IFD3: GPS }).jpeg({ quality: 50, mozjpeg: true }).toBuffer();
    const keptGps = await run(withGps, { mediaQuality: 85 });
    expect(keptGps.item).toMatchObject({ transforms: ['original kept: re-encode not smaller'], warning: 'original kept; metadata not stripped' });
    expect(keptGps.stored?.equals(withGps)).toBe(true);
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
      expect(item.transforms).toEqual(['auto-oriented', 'jpeg q75', 'baseline encoder (memory)', 'metadata stripped']);
      expect(await sharp(stored as Buffer).metadata()).toMatchObject({ format: 'jpeg', width: 800, height: 1200, isProgressive: false });
      // With room for mozjpeg, the same photo gets it (and comes out smaller).
      const best = await runWithin(input, leaving(60));
      expect(best.item.transforms).toEqual(['auto-oriented', 'jpeg q75', 'metadata stripped']);
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
    expect(item.transforms).toEqual(['auto-oriented', 'resized to fit 150 px', 'jpeg q75', 'metadata stripped']);
    // Upright 400 x 600 fitted into 150 x 150: 100 x 150.
    expect(await sharp(stored as Buffer).metadata()).toMatchObject({ width: 100, height: 150 });
    const small = await run(input, { maxImageDimension: 1000 });
    expect(small.item.transforms).not.toContain('resized to fit 1000 px');
    expect(await sharp(small.stored as Buffer).metadata()).toMatchObject({ width: 400, height: 600 });
    const key = (o: BackupOptionsInput) => mediaStrategy.strategyKey(BackupOptions.parse(o));
    expect(key({ maxImageDimension: 150 })).toBe('v1:q75:c1:m500:d150');
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

  it('stores images as they are when compressMedia is off', async () => {
    const input = await phoneJpeg(300, 200);
    const { item, stored } = await run(input, { compressMedia: false });
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
    expect(pngOut.item.transforms).toEqual(['png level 9', 'metadata stripped']);
    expect((await sharp(pngOut.stored as Buffer).metadata()).format).toBe('png');

    const webp = await sharp(halves(200, 100), { raw: { width: 200, height: 100, channels: 3 } }).webp({ quality: 100 }).toBuffer();
    const webpOut = await run(webp, {}, { name: 'a.webp' });
    expect(webpOut.item.transforms).toEqual(['webp q75', 'metadata stripped']);
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

  maybe('outputs every orientation upright and without GPS', async () => {
    const files = jpegs('orientation');
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const { item, stored } = await run(readFileSync(join(dir, 'orientation', file)), {}, { sourceId: file, name: file });
      const meta = await sharp(stored as Buffer).metadata();
      expect({ file, transforms: item.transforms, orientation: meta.orientation, exif: meta.exif }).toMatchObject({
        file, transforms: expect.arrayContaining(['metadata stripped']), orientation: undefined, exif: undefined,
      });
      if (file.startsWith('landscape')) expect({ file, wide: meta.width > meta.height }).toEqual({ file, wide: true });
      else expect({ file, tall: meta.height > meta.width }).toEqual({ file, tall: true });
    }
  });

  maybe('strips GPS from geotagged photos', async () => {
    const files = jpegs('gps');
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const input = readFileSync(join(dir, 'gps', file));
      expect(hasGpsTag((await sharp(input).metadata()).exif)).toBe(true);
      const { item, stored } = await run(input, {}, { sourceId: file, name: file });
      expect({ file, transforms: item.transforms }).toEqual({ file, transforms: expect.arrayContaining(['metadata stripped']) });
      expect(hasGpsTag((await sharp(stored as Buffer).metadata()).exif)).toBe(false);
    }
  });
});
