/**
 * What verify needs of a blob without holding it: its plaintext size and its NDJSON record count,
 * counted as it streams through the content store (which checks its hash).
 */
import type { CallOptions } from '../../ports';
import type { ContentStore } from '../content-store';

export interface BlobMeasure {
  /** Plaintext bytes. */
  byteLength: number;
  /** Newline-separated records: lines, plus one for a last line without its newline. */
  records: number;
}

/** Reads a blob to its end; rejects as `ContentStore.getStream` does (`not-found`, `data-loss`). */
export async function measureBlob(content: ContentStore, uid: string, hash: string, options: CallOptions = {}): Promise<BlobMeasure> {
  let byteLength = 0;
  let newlines = 0;
  let last = 0x0a;
  for await (const piece of await content.getStream(uid, hash, options)) {
    const view = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    for (let at = view.indexOf(0x0a); at !== -1; at = view.indexOf(0x0a, at + 1)) newlines += 1;
    if (piece.byteLength > 0) last = piece[piece.byteLength - 1] as number;
    byteLength += piece.byteLength;
  }
  return { byteLength, records: byteLength > 0 && last !== 0x0a ? newlines + 1 : newlines };
}
