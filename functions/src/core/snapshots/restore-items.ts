/**
 * Reads a snapshot's items back, in manifest order (a large file's parts in offset order), as the
 * exact bytes stored: a packed record's line (without its newline), or a whole blob as a stream.
 * A pack is read once per run of items that share it, and a few recent ones are kept
 * (`RecentBlobs`); a whole blob (a photo, a video's part) streams, so memory stays bounded by the
 * largest pack plus 16 MiB whatever the blobs' sizes.
 *
 * A restore keeps going past damage: an item whose blob is missing or corrupt, whose pack has no
 * line for it, or whose file's parts do not make the file (`file-parts.ts`) is yielded with a
 * `failure` and no bytes, and the next item follows. Only a manifest that cannot be read, or an
 * error that is not about the data (storage down, an abort), ends the run. Damage found while a
 * whole blob streams (a segment's tag, the hash at its end, a part of the wrong length) reaches
 * the consumer as the stream's `data-loss`: it fails that item (and that file) and goes on.
 */
import { readAll } from '../../ports/blob-store';
import type { ContentStore, ContentStream } from '../content-store';
import { codeOf, hasCode, lifeboatError, messageOf, type ErrorCode } from '../errors';
import type { BackupType, ManifestItem, Snapshot } from '../model';
import { badFiles, fileKeyOf, partLength } from './file-parts';
import { inFileOrder, splitLines } from '@lifeboat/protocol';
import { manifestItems } from './snapshot-manifest';

export { inFileOrder, splitLines };

export interface RestoreFilter {
  /** Only these types. @default all */
  types?: readonly BackupType[];
  /** Only these items (source ids). @default all */
  sourceIds?: readonly string[];
  /**
   * Yield the selected items without reading any blob (`bytes` is always null): listings and
   * diffs that need the items, not their data. Part checks still apply. @default false
   */
  itemsOnly?: boolean;
}

/** Why an item's bytes cannot be restored. */
export interface RestoreFailure {
  /** `not-found` (blob missing) or `data-loss` (blob corrupt, record or parts inconsistent). */
  code: ErrorCode;
  message: string;
}

export interface RestoredItem {
  item: ManifestItem;
  /** A packed record's stored bytes (its line); null for a whole blob (see `stream`), a skipped item, a failed one, or with `itemsOnly`. */
  bytes: Uint8Array | null;
  /**
   * A whole blob's plaintext, streamed and hash-checked (`ContentStore.getStream`: it throws
   * `data-loss` rather than end when the blob is corrupt; a part also when its length is not the
   * manifest's); null for packed, skipped and failed items. Read it before asking for the next
   * item, which closes it.
   */
  stream: ContentStream | null;
  /**
   * Set when the item's data cannot be had; a large file fails as a whole when any of its parts
   * does (every part after a failed one fails too, and a file whose parts are inconsistent fails
   * before any of its bytes are read).
   */
  failure?: RestoreFailure;
}

/** An item's bytes in memory, whether packed or whole (for small items: contacts, device info). */
export async function restoredBytes(restored: RestoredItem): Promise<Uint8Array | null> {
  if (restored.bytes) return restored.bytes;
  return restored.stream ? readAll(restored.stream, restored.stream.size === null ? {} : { size: restored.stream.size }) : null;
}

/** Blob errors that are findings about the data, not a reason to stop: the item fails, the restore goes on. */
function isDataFailure(err: unknown): boolean {
  return hasCode(err, 'not-found') || codeOf(err) === 'data-loss';
}

export async function* restoreItems(
  content: ContentStore,
  snapshot: Snapshot,
  filter: RestoreFilter = {},
  signal?: AbortSignal,
): AsyncGenerator<RestoredItem> {
  const failedFiles = new Map<string, RestoreFailure>();
  const blobs = new RecentBlobs();
  const options = signal ? { signal } : {};
  let open: ContentStream | null = null;
  try {
    for await (const group of selectedGroups(content, snapshot, filter, signal)) {
      // Checked before any byte of such a file is handed out, so a restore never writes a file of the wrong size.
      const bad = badFiles(group);
      for (const item of group) {
        await open?.close();
        open = null;
        const file = item.segment ? fileKeyOf(item) : null;
        const badParts = file === null ? undefined : bad.get(file);
        if (badParts !== undefined) {
          yield { item, bytes: null, stream: null, failure: { code: 'data-loss', message: `the parts of ${item.type} ${item.sourceId} do not make the file: ${badParts}` } };
          continue;
        }
        if (!item.blob || filter.itemsOnly) {
          yield { item, bytes: null, stream: null };
          continue;
        }
        const earlier = file === null ? undefined : failedFiles.get(file);
        if (earlier) {
          yield { item, bytes: null, stream: null, failure: earlier };
          continue;
        }
        if (item.part === undefined) {
          // A whole blob streams; a failure found before its first byte fails the item here.
          let failure: RestoreFailure | null = null;
          try {
            open = await content.getStream(snapshot.uid, item.blob, options);
            if (item.segment && open.size !== null && open.size !== partLength(item)) failure = lengthFailure(item, open.size);
          } catch (err) {
            if (!isDataFailure(err)) throw err;
            failure = { code: codeOf(err), message: messageOf(err) };
          }
          if (failure || !open) {
            const reported = failure ?? { code: 'internal', message: `blob ${item.blob} was not opened` };
            await open?.close();
            open = null;
            // The rest of the file's parts fail too: a file with a hole is not restored.
            if (file !== null) failedFiles.set(file, { code: reported.code, message: `part ${item.segment?.index} of the file failed: ${reported.message}` });
            yield { item, bytes: null, stream: null, failure: reported };
            continue;
          }
          yield { item, bytes: null, stream: item.segment && open.size === null ? lengthChecked(open, item) : open };
          continue;
        }
        let cached = blobs.get(item.blob);
        if (!cached) {
          try {
            cached = { bytes: await content.get(snapshot.uid, item.blob, options), failure: null, lines: null };
          } catch (err) {
            if (!isDataFailure(err)) throw err;
            cached = { bytes: null, failure: { code: codeOf(err), message: messageOf(err) }, lines: null };
          }
          blobs.add(item.blob, cached);
        }
        if (cached.bytes === null) {
          yield { item, bytes: null, stream: null, failure: cached.failure ?? { code: 'internal', message: `blob ${item.blob} was not read` } };
          continue;
        }
        cached.lines ??= splitLines(cached.bytes);
        const line = cached.lines[item.part];
        if (!line) {
          yield { item, bytes: null, stream: null, failure: { code: 'data-loss', message: `pack ${item.blob} has no record ${item.part} [item=${item.sourceId}]` } };
          continue;
        }
        yield { item, bytes: line, stream: null };
      }
    }
  } finally {
    await open?.close();
  }
}

/**
 * The selected items in manifest order, streamed, in groups: a large file's parts together (the
 * manifest keeps them together, in offset order), every other item alone. Memory holds one group.
 */
async function* selectedGroups(content: ContentStore, snapshot: Snapshot, filter: RestoreFilter, signal?: AbortSignal): AsyncGenerator<ManifestItem[]> {
  const ids = filter.sourceIds ? new Set(filter.sourceIds) : null;
  let group: ManifestItem[] = [];
  let file: string | null = null;
  for await (const item of manifestItems(content, snapshot, { ...(filter.types ? { types: filter.types } : {}), ...(signal ? { signal } : {}) })) {
    if (ids && !ids.has(item.sourceId)) continue;
    const key = item.segment ? fileKeyOf(item) : null;
    if (group.length > 0 && (key === null || key !== file)) {
      yield group;
      group = [];
    }
    group.push(item);
    file = key;
  }
  if (group.length > 0) yield group;
}

interface ReadBlob {
  bytes: Uint8Array | null;
  failure: RestoreFailure | null;
  /** A pack's records, split once. */
  lines: Uint8Array[] | null;
}

/**
 * The blobs read last: the one in use, and up to 3 before it within 16 MiB, so items that go
 * back to a pack (a conversation in time order moves between its old pack and a new one) do not
 * read it again. Memory stays bounded by the largest blob plus 16 MiB.
 */
class RecentBlobs {
  private readonly blobs = new Map<string, ReadBlob>();

  /** @param keep blobs kept besides the one in use. @param keepBytes their bytes in all. @default keep 3, keepBytes 16 MiB */
  constructor(private readonly keep = 3, private readonly keepBytes = 16 * 1024 * 1024) {}

  get(hash: string): ReadBlob | undefined {
    const blob = this.blobs.get(hash);
    if (blob) {
      // Map order is use order.
      this.blobs.delete(hash);
      this.blobs.set(hash, blob);
    }
    return blob;
  }

  add(hash: string, blob: ReadBlob): void {
    this.blobs.set(hash, blob);
    const kept = () => [...this.blobs.values()].slice(0, -1);
    while (kept().length > this.keep || kept().reduce((n, b) => n + (b.bytes?.byteLength ?? 0), 0) > this.keepBytes) {
      this.blobs.delete(this.blobs.keys().next().value as string);
    }
  }
}

/** A part whose blob is not the length the manifest gives it would shift every byte after it. */
function lengthFailure(item: ManifestItem, size: number): RestoreFailure {
  return { code: 'data-loss', message: `part ${item.segment?.index} of ${item.sourceId} has ${size} bytes, the manifest says ${partLength(item)}` };
}

/** A part of a blob written before blobs recorded their size: its length is checked as it streams. */
function lengthChecked(stream: ContentStream, item: ManifestItem): ContentStream {
  const expected = partLength(item);
  return {
    size: null,
    close: () => stream.close(),
    async *[Symbol.asyncIterator]() {
      let seen = 0;
      for await (const piece of stream) {
        seen += piece.byteLength;
        if (seen > expected) throw lifeboatError('data-loss', lengthFailure(item, seen).message);
        yield piece;
      }
      if (seen !== expected) throw lifeboatError('data-loss', lengthFailure(item, seen).message);
    },
  };
}


