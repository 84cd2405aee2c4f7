/**
 * Reads a snapshot's items back, in manifest order (a large file's parts in offset order), as the
 * exact bytes stored: a packed record's line (without its newline), or a whole blob as a stream.
 * A pack is read once per run of items that share it and held while they are yielded (packs are
 * small); a whole blob (a photo, a video's part) streams, so memory stays bounded by the largest
 * pack whatever the blobs' sizes.
 */
import { readAll } from '../../ports/blob-store';
import type { ContentStore, ContentStream } from '../content-store';
import { lifeboatError } from '../errors';
import type { BackupType, ManifestItem, Snapshot } from '../model';
import { loadManifest } from './load-manifest';

export interface RestoreFilter {
  /** Only these types. @default all */
  types?: readonly BackupType[];
  /** Only these items (source ids). @default all */
  sourceIds?: readonly string[];
}

export interface RestoredItem {
  item: ManifestItem;
  /** A packed record's stored bytes (its line); null for a whole blob (see `stream`) and for an item skipped at backup time. */
  bytes: Uint8Array | null;
  /**
   * A whole blob's plaintext, streamed and hash-checked (content-store.ts `getStream`: it throws
   * `data-loss` rather than end when the blob is corrupt); null for packed and skipped items. Read
   * it before asking for the next item, which closes it.
   */
  stream: ContentStream | null;
}

/** An item's bytes in memory, whether packed or whole (for small items: contacts, device info). */
export async function restoredBytes(restored: RestoredItem): Promise<Uint8Array | null> {
  if (restored.bytes) return restored.bytes;
  return restored.stream ? readAll(restored.stream, restored.stream.size === null ? {} : { size: restored.stream.size }) : null;
}

export async function* restoreItems(
  content: ContentStore,
  snapshot: Snapshot,
  filter: RestoreFilter = {},
  signal?: AbortSignal,
): AsyncGenerator<RestoredItem> {
  const { items } = await loadManifest(content, snapshot, signal);
  const types = filter.types ? new Set(filter.types) : null;
  const ids = filter.sourceIds ? new Set(filter.sourceIds) : null;
  const options = signal ? { signal } : {};
  let pack = null as { hash: string; lines: Uint8Array[] } | null;
  let open: ContentStream | null = null;

  try {
    for (const item of inFileOrder(items)) {
      if (types && !types.has(item.type)) continue;
      if (ids && !ids.has(item.sourceId)) continue;
      await open?.close();
      open = null;
      if (!item.blob) {
        yield { item, bytes: null, stream: null };
        continue;
      }
      if (item.part === undefined) {
        open = await content.getStream(snapshot.uid, item.blob, options);
        yield { item, bytes: null, stream: open };
        continue;
      }
      if (pack?.hash !== item.blob) pack = { hash: item.blob, lines: splitLines(await content.get(snapshot.uid, item.blob, options)) };
      const line = pack.lines[item.part];
      if (!line) throw lifeboatError('data-loss', `pack ${item.blob} has no record ${item.part} [item=${item.sourceId}]`);
      yield { item, bytes: line, stream: null };
    }
  } finally {
    await open?.close();
  }
}

/**
 * The manifest's items with the parts of each large file (`segment`) moved together, at the place
 * of the file's first part, in `offset` order: restore appends parts as they come, and a manifest
 * may list them in any order (chunks registered out of order, a retried upload). Everything else
 * keeps its place; equal offsets keep their manifest order (the sort is stable).
 */
export function inFileOrder<T extends Pick<ManifestItem, 'type' | 'sourceId' | 'segment'>>(items: readonly T[]): T[] {
  const firstPart = new Map<string, number>();
  const keyed = items.map((item, index) => {
    if (!item.segment) return { item, group: index, offset: 0 };
    const file = `${item.type}\u0000${item.sourceId}`;
    let group = firstPart.get(file);
    if (group === undefined) {
      group = index;
      firstPart.set(file, index);
    }
    return { item, group, offset: item.segment.offset };
  });
  if (firstPart.size === 0) return [...items];
  return keyed.sort((a, b) => a.group - b.group || a.offset - b.offset).map((k) => k.item);
}

/** The records of an NDJSON pack, without their newlines: record `part` of an item is `lines[part]`. */
export function splitLines(bytes: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.byteLength; i++) {
    if (bytes[i] === 0x0a) {
      lines.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < bytes.byteLength) lines.push(bytes.subarray(start));
  return lines;
}
