/**
 * End to end for media: the embedded server, a device backing up generated phone photos and a
 * text file through the client SDK, and the stored blobs checked with sharp.
 */
import sharp from 'sharp';
import type { MediaFile } from '@lifeboat/client-sdk';
import { contentStoreOf, loadManifest } from '@lifeboat/functions/core';
import { useTestRuntime } from './helpers/test-runtime';

const t = useTestRuntime('e2e-media', { tokenSecret: 'e2e-media-secret' });
const client = (uid: string) => t.client(uid);

/** A q95 landscape-sensor JPEG with EXIF orientation 6 and GPS, as a phone held upright writes it. */
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
    .withMetadata({ orientation: 6 })
    .withExif({ IFD0: { Make: 'LifeboatCam' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 0/1' } })
    .jpeg({ quality: 95 })
    .toBuffer();
  return new Uint8Array(jpeg);
}

describe('embedded runtime end to end: media', () => {
  let files: MediaFile[];

  beforeAll(async () => {
    files = [
      { sourceId: 'DCIM/IMG_0003.JPG', name: 'IMG_0003.JPG', mimeType: 'image/jpeg', takenAt: '2024-06-01T09:00:00Z', bytes: await phonePhoto(3) },
      { sourceId: 'DCIM/IMG_0001.JPG', name: 'IMG_0001.JPG', mimeType: 'image/jpeg', bytes: await phonePhoto(1) },
      { sourceId: 'DCIM/IMG_0002.JPG', name: 'IMG_0002.JPG', bytes: await phonePhoto(2) },
      { sourceId: 'Documents/notes.txt', name: 'notes.txt', mimeType: 'text/plain', bytes: new TextEncoder().encode('groceries: milk, eggs\n') },
    ];
  });

  it('backs up images and a text file; in storageSaver images are stored upright, re-encoded, with their EXIF', async () => {
    const alice = client('alice');
    const started = await alice.startBackup({ types: ['media'], options: { mediaMode: 'storageSaver' }, sources: { media: files } });
    expect(started).toMatchObject({ chunks: 4 });
    expect(started.bytesUploaded).toBe(started.bytesTotal);
    const job = await alice.waitForJob(started.jobId, { intervalMs: 20 });
    expect(job).toMatchObject({ status: 'completed', lastError: null, progress: { processedItems: 4, skippedItems: 0 } });

    const snapshot = await alice.getSnapshot(job.snapshotId as string);
    const content = contentStoreOf(t.runtime.deps);
    const manifest = await loadManifest(content, snapshot);
    expect(manifest.items.map((i) => i.sourceId)).toEqual(['DCIM/IMG_0001.JPG', 'DCIM/IMG_0002.JPG', 'DCIM/IMG_0003.JPG', 'Documents/notes.txt']);
    expect(manifest.items.every((i) => i.type === 'media')).toBe(true);

    for (const item of manifest.items) {
      const original = files.find((f) => f.sourceId === item.sourceId) as MediaFile;
      const stored = await content.get('alice', item.blob as string);
      expect(item).toMatchObject({ originalSize: original.bytes.byteLength, blobSize: stored.byteLength });
      if (item.sourceId.endsWith('.txt')) {
        expect(item.transforms).toEqual(['stored as is']);
        expect(Buffer.from(stored).equals(Buffer.from(original.bytes))).toBe(true);
        continue;
      }
      expect(item.transforms).toEqual(['auto-oriented', 'jpeg q75', 'metadata kept']);
      expect(stored.byteLength).toBeLessThan(original.bytes.byteLength);
      const meta = await sharp(stored).metadata();
      expect(meta).toMatchObject({ format: 'jpeg', width: 320, height: 480, orientation: 1 });
      expect(Buffer.from(stored).includes(Buffer.from('LifeboatCam'))).toBe(true);
    }
  });

  it('a second, unchanged backup uploads nothing', async () => {
    const alice = client('alice');
    const again = await alice.startBackup({ types: ['media'], options: { mediaMode: 'storageSaver' }, sources: { media: [...files].reverse() } });
    expect(again.bytesUploaded).toBe(0);
    expect(again.bytesDeduplicated).toBe(again.bytesTotal);
    const job = await alice.waitForJob(again.jobId, { intervalMs: 20 });
    expect(job).toMatchObject({ status: 'completed', progress: { bytesUploaded: 0, processedItems: 4 } });
  });

  it('the SDK refuses a media backup without a source, and duplicate sourceIds', async () => {
    const alice = client('alice');
    await expect(alice.startBackup({ types: ['media'], sources: {} })).rejects.toMatchObject({ code: 'backup/invalid-argument' });
    const twice = [files[3] as MediaFile, files[3] as MediaFile];
    await expect(alice.startBackup({ types: ['media'], sources: { media: twice } })).rejects.toMatchObject({ code: 'backup/invalid-argument', message: expect.stringMatching(/twice/) });
  });
});
