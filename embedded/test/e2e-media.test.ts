/**
 * End to end for media: the embedded server, a device backing up generated phone photos (EXIF
 * capture date and offset, camera, orientation, colour profile, GPS) and a text file through the
 * client SDK, in each mode with and without `stripLocation`, then restored both ways (a folder,
 * and the SDK into a sink): what a photo library needs comes back, the file names and times the
 * app gave come back, and `original` is byte for byte. The same on ../shared/fixtures/photos
 * when present.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { BackupOptions, MediaFile, MediaMode, RestoreItem } from '@lifeboat/client-sdk';
import { contentStoreOf, manifestItems, type ManifestItem } from '@lifeboat/engine/core';
import { libraryFields, readExifFields } from '../../functions/test/helpers/exif-fields';
import { restoreToFolder } from '../src/restore/folder-restore';
import { useTestRuntime } from './helpers/test-runtime';

const t = useTestRuntime('e2e-media', { tokenSecret: 'e2e-media-secret' });
const client = (uid: string) => t.client(uid);

const GPS = { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 0/1' };

/** A q95 landscape-sensor JPEG as a phone held upright writes it: orientation 6, camera, date and offset, P3 profile, GPS. */
async function phonePhoto(seed: number): Promise<Uint8Array> {
  const width = 480;
  const height = 320;
  const px = Buffer.alloc(width * height * 3);
  for (let i = 0; i < px.length; i += 3) {
    const x = (i / 3) % width;
    px[i] = (x * seed) % 256;
    px[i + 1] = (i * 7) % 200;
    px[i + 2] = 255 - ((x * 3) % 256);
  }
  const jpeg = await sharp(px, { raw: { width, height, channels: 3 } })
    .withIccProfile('p3')
    .withMetadata({ orientation: 6 })
    .withExifMerge({
      IFD0: { Make: 'LifeboatCam', Model: `LB-${seed}` },
      IFD2: { DateTimeOriginal: `2024:06:0${seed} 09:00:00`, OffsetTime: '+02:00', OffsetTimeOriginal: '+02:00' },
      IFD3: GPS,
    })
    .jpeg({ quality: 95 })
    .toBuffer();
  return new Uint8Array(jpeg);
}

const RUNS: Array<{ mode: MediaMode; stripLocation: boolean }> = [
  { mode: 'original', stripLocation: false },
  { mode: 'original', stripLocation: true },
  { mode: 'storageSaver', stripLocation: false },
  { mode: 'storageSaver', stripLocation: true },
];

/** What a folder restore and an SDK restore gave back, per source id. */
interface Restored {
  folder: Map<string, { file: string; bytes: Buffer; mtimeMs: number }>;
  sdk: Map<string, { item: RestoreItem; bytes: Buffer }>;
  manifest: ManifestItem[];
}

async function backUpAndRestore(uid: string, media: MediaFile[], options: BackupOptions): Promise<Restored> {
  const device = client(uid);
  const started = await device.startBackup({ types: ['media'], options, sources: { media } });
  const job = await device.waitForJob(started.jobId, { intervalMs: 20 });
  expect(job).toMatchObject({ status: 'completed', lastError: null });
  const snapshot = await device.getSnapshot(job.snapshotId as string);
  const content = contentStoreOf(t.runtime.deps);
  const manifest: ManifestItem[] = [];
  for await (const item of manifestItems(content, snapshot)) manifest.push(item);

  const dir = join(t.dir, `restore-${uid}`);
  const summary = await restoreToFolder(content, snapshot, dir);
  expect(summary).toMatchObject({ partial: false, failed: [], warnings: [] });
  const folder = new Map<string, { file: string; bytes: Buffer; mtimeMs: number }>();
  for (const m of media) {
    const file = summary.names.find((n) => n.type === 'media' && n.id === m.sourceId)?.file ?? `media/${m.sourceId}`;
    folder.set(m.sourceId, { file, bytes: readFileSync(join(dir, file)), mtimeMs: statSync(join(dir, file)).mtimeMs });
  }

  const sdk = new Map<string, { item: RestoreItem; bytes: Buffer }>();
  const result = await device.restore({
    snapshotId: snapshot.id,
    sink: {
      open(item) {
        const parts: Uint8Array[] = [];
        return { write: (b) => void parts.push(b), close: () => void sdk.set(item.sourceId, { item, bytes: Buffer.concat(parts) }) };
      },
    },
  });
  expect(result.failed).toEqual([]);
  return { folder, sdk, manifest };
}

describe('embedded runtime end to end: media in each mode', () => {
  let files: MediaFile[];
  const notes = new TextEncoder().encode('groceries: milk, eggs\n');

  beforeAll(async () => {
    files = [
      { sourceId: 'asset-3', name: 'IMG 0003.JPG', mimeType: 'image/jpeg', takenAt: '2024-06-03T09:00:00+02:00', modifiedAt: '2024-06-03T07:00:05Z', album: 'Camera', bytes: await phonePhoto(3) },
      { sourceId: 'asset-1', name: 'IMG_0001.JPG', mimeType: 'image/jpeg', takenAt: '2024-06-01T09:00:00+02:00', modifiedAt: '2024-06-01T07:00:05Z', album: 'Camera', bytes: await phonePhoto(1) },
      // Same name as asset-1, another album: each keeps its name in its own folder.
      { sourceId: 'asset-2', name: 'IMG_0001.JPG', mimeType: 'image/jpeg', createdAt: '2024-06-02T10:00:00Z', album: 'WhatsApp Images', bytes: await phonePhoto(2) },
      { sourceId: 'Documents/notes.txt', name: 'notes.txt', mimeType: 'text/plain', modifiedAt: '2023-12-24T18:30:00Z', bytes: notes },
    ];
  });

  it.each(RUNS)('$mode, stripLocation $stripLocation: metadata, names and times come back; original is byte for byte', async ({ mode, stripLocation }) => {
    const uid = `u-${mode}-${stripLocation ? 'nogps' : 'gps'}`;
    const { folder, sdk, manifest } = await backUpAndRestore(uid, files, { mediaMode: mode, stripLocation });
    expect(manifest.map((i) => i.sourceId)).toEqual(['Documents/notes.txt', 'asset-1', 'asset-2', 'asset-3']);
    expect(folder.get('asset-1')?.file).toBe('media/Camera/IMG_0001.JPG');
    // An album that is not a plain file name gets a readable, hashed folder name.
    expect(folder.get('asset-2')?.file).toMatch(/^media\/WhatsApp_Images~[0-9a-f]{24}\/IMG_0001\.JPG$/);
    expect(folder.get('asset-3')?.file).toMatch(/^media\/Camera\/IMG_0003~[0-9a-f]{24}\.JPG$/);
    expect(folder.get('Documents/notes.txt')?.file).toBe('media/notes.txt');

    for (const original of files) {
      const restored = folder.get(original.sourceId);
      const viaSdk = sdk.get(original.sourceId);
      const item = manifest.find((i) => i.sourceId === original.sourceId) as ManifestItem;
      // The app's name, type, times and album, in the manifest and handed to the SDK's sink.
      const { bytes: _bytes, sourceId: _id, ...meta } = original;
      expect(item.meta).toEqual(meta);
      expect(viaSdk?.item.meta).toEqual(meta);
      expect(viaSdk?.bytes.equals(restored?.bytes as Buffer)).toBe(true);
      const expectedTime = Date.parse(original.modifiedAt ?? original.createdAt ?? original.takenAt ?? '');
      expect(restored?.mtimeMs).toBe(expectedTime);
      if (original.sourceId.endsWith('.txt')) {
        expect(restored?.bytes.equals(Buffer.from(notes))).toBe(true);
        continue;
      }
      const before = await sharp(original.bytes).metadata();
      const after = await sharp(restored?.bytes as Buffer).metadata();
      const fields = readExifFields(after.exif);
      expect(libraryFields(fields)).toEqual(libraryFields(readExifFields(before.exif)));
      expect(fields).toMatchObject({ make: 'LifeboatCam', offsetTimeOriginal: '+02:00' });
      expect(after.icc).toEqual(before.icc);
      expect(fields.hasGps).toBe(!stripLocation);
      if (mode === 'original') {
        expect(after.orientation).toBe(6);
        if (!stripLocation) expect(restored?.bytes.equals(Buffer.from(original.bytes))).toBe(true);
        else expect(item.transforms).toEqual(['location removed']);
      } else {
        // Upright, orientation normalized, smaller.
        expect(after).toMatchObject({ orientation: 1, width: 320, height: 480 });
        expect(restored?.bytes.byteLength).toBeLessThan(original.bytes.byteLength);
      }
    }
  });

  it('a second, unchanged backup uploads nothing; another mode is processed again', async () => {
    const alice = client('alice');
    const first = await alice.startBackup({ types: ['media'], options: { mediaMode: 'storageSaver' }, sources: { media: files } });
    await alice.waitForJob(first.jobId, { intervalMs: 20 });
    const again = await alice.startBackup({ types: ['media'], options: { mediaMode: 'storageSaver' }, sources: { media: [...files].reverse() } });
    expect(again.bytesUploaded).toBe(0);
    expect(again.bytesDeduplicated).toBe(again.bytesTotal);
    const job = await alice.waitForJob(again.jobId, { intervalMs: 20 });
    expect(job).toMatchObject({ status: 'completed', progress: { bytesUploaded: 0, processedItems: 4 } });
    const other = await alice.startBackup({ types: ['media'], options: { mediaMode: 'storageSaver', stripLocation: true }, sources: { media: files } });
    expect(other.bytesUploaded).toBe(other.bytesTotal);
  });

  it('the SDK refuses a media backup without a source, duplicate sourceIds and a time that is not ISO 8601', async () => {
    const alice = client('alice');
    await expect(alice.startBackup({ types: ['media'], sources: {} })).rejects.toMatchObject({ code: 'backup/invalid-argument' });
    const twice = [files[3] as MediaFile, files[3] as MediaFile];
    await expect(alice.startBackup({ types: ['media'], sources: { media: twice } })).rejects.toMatchObject({ code: 'backup/invalid-argument', message: expect.stringMatching(/twice/) });
    const badTime = [{ ...(files[3] as MediaFile), modifiedAt: '24/12/2023' }];
    await expect(alice.startBackup({ types: ['media'], sources: { media: badTime } })).rejects.toMatchObject({ code: 'backup/invalid-argument', message: expect.stringMatching(/modifiedAt "24\/12\/2023" is not an ISO 8601/) });
  });
});

describe('embedded runtime end to end: media on real photos (../shared/fixtures/photos)', () => {
  const dir = resolve(__dirname, '../../../shared/fixtures/photos');
  const present = existsSync(dir);
  if (!present) console.warn('skipping: ../shared/fixtures/photos not found');
  const maybe = present ? it : it.skip;
  const photos = (): MediaFile[] =>
    ['gps', 'mobile'].flatMap((sub) =>
      readdirSync(join(dir, sub)).filter((f) => f.toLowerCase().endsWith('.jpg')).sort().map((f) => ({
        sourceId: `${sub}/${f}`, name: f, mimeType: 'image/jpeg', album: sub, modifiedAt: '2022-02-02T02:02:02Z', bytes: new Uint8Array(readFileSync(join(dir, sub, f))),
      })),
    );

  maybe.each(RUNS)('$mode, stripLocation $stripLocation: capture date, camera and profile equal the original\'s', async ({ mode, stripLocation }) => {
    const media = photos();
    const { folder, sdk } = await backUpAndRestore(`photos-${mode}-${stripLocation}`, media, { mediaMode: mode, stripLocation });
    for (const original of media) {
      const restored = folder.get(original.sourceId);
      const what = { file: original.sourceId, mode, stripLocation };
      expect({ ...what, file: restored?.file, mtime: restored?.mtimeMs }).toEqual({ ...what, file: `media/${original.album}/${original.name}`, mtime: Date.parse('2022-02-02T02:02:02Z') });
      expect({ ...what, same: sdk.get(original.sourceId)?.bytes.equals(restored?.bytes as Buffer) }).toEqual({ ...what, same: true });
      const before = await sharp(original.bytes).metadata();
      const after = await sharp(restored?.bytes as Buffer).metadata();
      const had = readExifFields(before.exif);
      const got = readExifFields(after.exif);
      expect({ ...what, fields: libraryFields(got), icc: after.icc?.byteLength, gps: got.hasGps })
        .toEqual({ ...what, fields: libraryFields(had), icc: before.icc?.byteLength, gps: had.hasGps && !stripLocation });
      if (mode === 'original' && !stripLocation) expect({ ...what, identical: restored?.bytes.equals(Buffer.from(original.bytes)) }).toEqual({ ...what, identical: true });
    }
  });
});
