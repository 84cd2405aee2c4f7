/**
 * Segment stats (`SegmentStats` in model.ts): what a manifest tree keeps of each segment so that
 * totals, diffs, incremental carry-forward and chat watermarks need not read it. Computed once,
 * when a chunk's result is written, and kept on the chunk record and the chunk-index entry.
 */
import type { BackupType, ManifestItem, SegmentStats } from '../model';
import { compareUtcIso } from '../utc-iso';

/** Longest key bound kept; longer keys are bounded by a prefix (min) or a prefix successor (max). */
export const KEY_BOUND_LENGTH = 128;

/** Segments with more conversations than this keep no marks: their watermarks are read from the segment. */
export const MAX_MARKS = 64;

/** An item's identity within its type: chat message ids are only unique per conversation. */
export function itemKey(item: Pick<ManifestItem, 'type' | 'sourceId' | 'conversationId'>): string {
  return item.type === 'chats' ? `${item.conversationId ?? ''}\u0000${item.sourceId}` : item.sourceId;
}

const isSurrogate = (code: number) => code >= 0xd800 && code <= 0xdfff;

/** A string no longer than the limit that is <= `key` (a prefix), without a split surrogate pair. */
function lowerBound(key: string): string {
  if (key.length <= KEY_BOUND_LENGTH) return key;
  let cut = KEY_BOUND_LENGTH;
  if (isSurrogate(key.charCodeAt(cut - 1))) cut -= 1;
  return key.slice(0, cut);
}

/**
 * A string no longer than the limit that is >= `key`: the key itself, or its prefix with the
 * last code unit raised by one (greater than every string with that prefix). Undefined when no
 * such bound exists without a lone surrogate (then the segment has no upper bound).
 */
function upperBound(key: string): string | undefined {
  if (key.length <= KEY_BOUND_LENGTH) return key;
  let prefix = key.slice(0, KEY_BOUND_LENGTH);
  while (prefix.length > 0) {
    const last = prefix.charCodeAt(prefix.length - 1);
    if (last < 0xffff && !isSurrogate(last) && !isSurrogate(last + 1)) return prefix.slice(0, -1) + String.fromCharCode(last + 1);
    prefix = prefix.slice(0, -1);
  }
  return undefined;
}

export function segmentStats(items: readonly ManifestItem[]): SegmentStats {
  let skipped = 0;
  let tombstones = 0;
  let originalBytes = 0;
  let storedBytes = 0;
  let min: string | undefined;
  let max: string | undefined;
  const marks = new Map<string, string>();
  const types: Partial<Record<BackupType, { items: number; skipped: number }>> = {};
  for (const item of items) {
    const byType = (types[item.type] ??= { items: 0, skipped: 0 });
    byType.items += 1;
    if (item.skipReason !== undefined) byType.skipped += 1;
    if (item.skipReason !== undefined) skipped += 1;
    if (item.blob !== null && item.transforms.includes('tombstone')) tombstones += 1;
    originalBytes += item.originalSize;
    storedBytes += item.storedSize;
    const key = itemKey(item);
    if (min === undefined || key < min) min = key;
    if (max === undefined || key > max) max = key;
    if (item.type === 'chats' && item.blob !== null && item.conversationId !== undefined && item.at !== undefined) {
      const current = marks.get(item.conversationId);
      if (current === undefined || compareUtcIso(item.at, current) > 0) marks.set(item.conversationId, item.at);
    }
  }
  const stats: SegmentStats = { items: items.length, skipped, originalBytes, storedBytes };
  if (tombstones > 0) stats.tombstones = tombstones;
  if (min !== undefined && max !== undefined) {
    const upper = upperBound(max);
    if (upper !== undefined) {
      stats.minKey = lowerBound(min);
      stats.maxKey = upper;
    }
  }
  if (marks.size > 0 && marks.size <= MAX_MARKS) stats.marks = [...marks.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (Object.keys(types).length > 1) stats.types = types;
  const only = items.length === 1 ? items[0] : undefined;
  if (only?.segment) stats.file = { id: only.sourceId, offset: only.segment.offset };
  return stats;
}

/** True when a key may be in a segment with these stats (a segment without bounds may hold any key). */
export function mayHoldKey(stats: Pick<SegmentStats, 'minKey' | 'maxKey'>, key: string): boolean {
  if (stats.minKey === undefined || stats.maxKey === undefined) return true;
  return key >= stats.minKey && key <= stats.maxKey;
}

/**
 * True when any of `sortedKeys` (ascending, as JavaScript compares strings) may be in a segment
 * with these stats: a binary search for the first key at or above the segment's lower bound.
 */
export function mayHoldAny(stats: Pick<SegmentStats, 'minKey' | 'maxKey'>, sortedKeys: readonly string[]): boolean {
  if (sortedKeys.length === 0) return false;
  if (stats.minKey === undefined || stats.maxKey === undefined) return true;
  let lo = 0;
  let hi = sortedKeys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sortedKeys[mid] as string) < stats.minKey) lo = mid + 1;
    else hi = mid;
  }
  return lo < sortedKeys.length && (sortedKeys[lo] as string) <= stats.maxKey;
}

export type TypeCounts = Partial<Record<BackupType, { items: number; skipped: number }>>;

/** What an entry (segment or node) holds by item type; an entry without a breakdown holds only its tree's type. */
export function countsByType(entry: { items: number; skipped: number; types?: TypeCounts | undefined }, treeType: BackupType): TypeCounts {
  return entry.types ?? { [treeType]: { items: entry.items, skipped: entry.skipped } };
}

/** Adds `from` into `into`, type by type. */
export function addCounts(into: TypeCounts, from: TypeCounts): TypeCounts {
  for (const [type, counts] of Object.entries(from) as Array<[BackupType, { items: number; skipped: number }]>) {
    const current = (into[type] ??= { items: 0, skipped: 0 });
    current.items += counts.items;
    current.skipped += counts.skipped;
  }
  return into;
}
