/**
 * Snapshots written by hand, for damage no backup would make on purpose: a large file whose
 * parts have a gap, an overlap, a missing or repeated part, or disagree on the file's size
 * (issue 16 item 6). The manifest and blobs go through the content store like finalize's.
 */
import type { ContentStore } from '../../src/core/content-store';
import { encodeManifest } from '../../src/core/manifest';
import { MANIFEST_FORMAT, type ManifestItem, type Snapshot } from '../../src/core/model';
import type { JobStore } from '../../src/ports';

/** One part of a file: where the manifest says it sits, and how many bytes it really holds. */
export interface PartSpec {
  index: number;
  offset: number;
  fileSize: number;
  length: number;
}

/** The bytes of a file at `offset`: the same generator for every part, so a good join equals `fileBytes(size)`. */
export function fileBytes(length: number, offset = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => ((offset + i) * 7 + 3) % 256);
}

/** Three parts of 1000 bytes that make a 3000-byte file. */
export const GOOD_PARTS: PartSpec[] = [0, 1, 2].map((index) => ({ index, offset: index * 1000, fileSize: 3000, length: 1000 }));

/** Parts that do not make their file, by what is wrong with them. */
export const BAD_PARTS: Record<string, PartSpec[]> = {
  gap: [{ index: 0, offset: 0, fileSize: 3000, length: 1000 }, { index: 1, offset: 1000, fileSize: 3000, length: 1000 }, { index: 2, offset: 2500, fileSize: 3000, length: 500 }],
  overlap: [{ index: 0, offset: 0, fileSize: 3000, length: 1000 }, { index: 1, offset: 900, fileSize: 3000, length: 1100 }, { index: 2, offset: 2000, fileSize: 3000, length: 1000 }],
  'missing part': [{ index: 0, offset: 0, fileSize: 3000, length: 1000 }, { index: 2, offset: 2000, fileSize: 3000, length: 1000 }],
  'missing last part': [{ index: 0, offset: 0, fileSize: 3000, length: 1000 }, { index: 1, offset: 1000, fileSize: 3000, length: 1000 }],
  'inconsistent size': [{ index: 0, offset: 0, fileSize: 3000, length: 1000 }, { index: 1, offset: 1000, fileSize: 3000, length: 1000 }, { index: 2, offset: 2000, fileSize: 4000, length: 1000 }],
  'repeated part': [...GOOD_PARTS, { index: 1, offset: 1000, fileSize: 3000, length: 1000 }],
};

/**
 * Writes a media snapshot: a small file `note.txt`, then a large file per entry of `files` (its
 * parts in the order given), then `note-2.txt`. With a `store` the snapshot record is saved too.
 */
export async function craftedSnapshot(
  content: ContentStore,
  uid: string,
  files: Record<string, PartSpec[]>,
  options: { id?: string; store?: JobStore; createdAt?: number } = {},
): Promise<Snapshot> {
  const id = options.id ?? 'snap_crafted';
  const note = async (sourceId: string): Promise<ManifestItem> => {
    const bytes = new TextEncoder().encode(`${sourceId}\n`);
    const { hash } = await content.put(uid, bytes);
    return { type: 'media', sourceId, blob: hash, blobSize: bytes.byteLength, originalSize: bytes.byteLength, storedSize: bytes.byteLength, transforms: ['stored as is'] };
  };
  const items: ManifestItem[] = [await note('note.txt')];
  for (const [sourceId, parts] of Object.entries(files)) {
    for (const part of parts) {
      const bytes = fileBytes(part.length, part.offset);
      const { hash } = await content.put(uid, bytes);
      items.push({
        type: 'media',
        sourceId,
        blob: hash,
        blobSize: bytes.byteLength,
        segment: { index: part.index, offset: part.offset, fileSize: part.fileSize },
        originalSize: bytes.byteLength,
        storedSize: bytes.byteLength,
        transforms: ['stored as is'],
      });
    }
  }
  items.push(await note('note-2.txt'));
  const createdAt = options.createdAt ?? 1;
  const manifest = await content.put(
    uid,
    encodeManifest({ format: MANIFEST_FORMAT, snapshotId: id, jobId: `job_${id}`, uid, deviceId: 'd', createdAt, types: ['media'], items: items.length }, items),
  );
  const snapshot: Snapshot = {
    id,
    uid,
    jobId: `job_${id}`,
    deviceId: 'd',
    parentId: null,
    types: ['media'],
    createdAt,
    manifestRef: manifest.hash,
    totals: { items: items.length, skippedItems: 0, chunks: items.length, originalBytes: 0, storedBytes: 0 },
    byType: {},
    health: null,
  };
  if (options.store) await options.store.runTransaction(async (tx) => tx.setSnapshot(snapshot));
  return snapshot;
}
