import type { ManifestItem } from './documents';

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
