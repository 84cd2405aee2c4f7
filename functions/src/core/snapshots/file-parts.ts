/**
 * The parts of a large file (`ManifestItem.segment`, media over 64 MiB) must make exactly one file:
 * numbered 0..n-1, each starting where the one before ends, all agreeing on the file's size, and
 * the last ending at it. Verify reports a file whose parts do not (`bad-segments`) and restore
 * fails it instead of writing a file of the wrong size (docs/invariants.md, "Verify and restore").
 *
 * The SDK has its own copy of these rules (client-sdk/src/file-parts.ts), checked part by part as
 * plan pages arrive: the SDK ships without the functions package. Keep the two in step.
 */
import type { ManifestItem } from '../model';

/** What the check reads of a part. */
export type FilePart = Pick<ManifestItem, 'blob' | 'blobSize' | 'originalSize' | 'skipReason'> & {
  segment: NonNullable<ManifestItem['segment']>;
};

/** A part's length: its blob's plaintext size (parts are stored as is), else its recorded size. */
export function partLength(part: Pick<FilePart, 'blobSize' | 'originalSize'>): number {
  return part.blobSize ?? part.originalSize;
}

/**
 * Why the parts of one file do not make the file, or null when they do. `parts` are the file's
 * parts in `offset` order (as `inFileOrder` lists them). A file whose parts were all skipped at
 * backup time (over the size limit, not sent) is a skipped file, not a problem.
 */
export function filePartsProblem(parts: readonly FilePart[]): string | null {
  const first = parts[0];
  if (!first) return null;
  const fileSize = first.segment.fileSize;
  const other = parts.find((p) => p.segment.fileSize !== fileSize);
  if (other) return `its parts disagree on the file's size (${fileSize} and ${other.segment.fileSize} bytes)`;
  const stored = parts.filter((p) => p.blob !== null);
  if (stored.length === 0) return null;
  const notStored = parts.find((p) => p.blob === null);
  if (notStored) return `part ${notStored.segment.index} was not stored (${notStored.skipReason ?? 'no blob'})`;

  const indexes = parts.map((p) => p.segment.index).sort((a, b) => a - b);
  for (let i = 0; i < indexes.length; i++) {
    const index = indexes[i] as number;
    if (index < i) return `part ${index} appears more than once`;
    if (index > i) return `part ${i} is missing`;
  }
  let end = 0;
  for (const part of parts) {
    const { index, offset } = part.segment;
    if (offset > end) return `bytes ${end}..${offset - 1} are missing: part ${index} starts at ${offset}`;
    if (offset < end) return `part ${index} at ${offset} overlaps the part before it, which ends at ${end}`;
    end = offset + partLength(part);
  }
  if (end < fileSize) return `its parts end at ${end} of ${fileSize} bytes: the last part is missing`;
  if (end > fileSize) return `its parts run to ${end}, past the file's ${fileSize} bytes`;
  return null;
}

/** The key that groups the parts of one file. */
export function fileKeyOf(item: Pick<ManifestItem, 'type' | 'sourceId'>): string {
  return `${item.type}\u0000${item.sourceId}`;
}

/**
 * Every file stored in parts among `items` whose parts do not make the file, with the reason.
 * Parts are grouped by type and source id and taken in `offset` order.
 */
export function badFiles(items: Iterable<ManifestItem>): Map<string, string> {
  const files = new Map<string, FilePart[]>();
  for (const item of items) {
    if (!item.segment) continue;
    const key = fileKeyOf(item);
    const list = files.get(key) ?? [];
    list.push(item as FilePart);
    files.set(key, list);
  }
  const bad = new Map<string, string>();
  for (const [key, parts] of files) {
    // A stable sort: equal offsets (an overlap) keep their manifest order.
    const problem = filePartsProblem([...parts].sort((a, b) => a.segment.offset - b.segment.offset));
    if (problem !== null) bad.set(key, problem);
  }
  return bad;
}
