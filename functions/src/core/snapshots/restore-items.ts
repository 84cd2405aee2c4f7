/**
 * Reads a snapshot's items back, in manifest order (a large file's parts in offset order), as the
 * exact bytes stored: a packed record's line (without its newline) or a whole blob. Each blob is read once per run of items that share
 * it and held only while they are yielded, so memory stays bounded by the largest blob.
 */
import type { ContentStore } from '../content-store';
import { lifeboatError } from '../errors';
import type { BackupType, ManifestItem, Snapshot } from '../model';
import { inFileOrder } from './file-order';
import { manifestItems } from './snapshot-manifest';

export { inFileOrder };

export interface RestoreFilter {
  /** Only these types. @default all */
  types?: readonly BackupType[];
  /** Only these items (source ids). @default all */
  sourceIds?: readonly string[];
}

export interface RestoredItem {
  item: ManifestItem;
  /** The stored bytes of the item; null for an item that was skipped at backup time. */
  bytes: Uint8Array | null;
}

export async function* restoreItems(
  content: ContentStore,
  snapshot: Snapshot,
  filter: RestoreFilter = {},
  signal?: AbortSignal,
): AsyncGenerator<RestoredItem> {
  const ids = filter.sourceIds ? new Set(filter.sourceIds) : null;
  let cached = null as { hash: string; bytes: Uint8Array; lines: Uint8Array[] | null } | null;

  for await (const item of manifestItems(content, snapshot, { ...(filter.types ? { types: filter.types } : {}), ...(signal ? { signal } : {}) })) {
    if (ids && !ids.has(item.sourceId)) continue;
    if (!item.blob) {
      yield { item, bytes: null };
      continue;
    }
    if (cached?.hash !== item.blob) {
      cached = { hash: item.blob, bytes: await content.get(snapshot.uid, item.blob, signal ? { signal } : {}), lines: null };
    }
    if (item.part === undefined) {
      yield { item, bytes: cached.bytes };
      continue;
    }
    cached.lines ??= splitLines(cached.bytes);
    const line = cached.lines[item.part];
    if (!line) throw lifeboatError('data-loss', `pack ${item.blob} has no record ${item.part} [item=${item.sourceId}]`);
    yield { item, bytes: line };
  }
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
