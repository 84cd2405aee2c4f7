/**
 * Snapshot manifests: NDJSON, a header line then one line per item, stored as a content blob
 * (gzip by the blob codec). Reading validates every line.
 */
import { z } from 'zod';
import { lifeboatError } from './errors';
import { ManifestHeader, ManifestItem } from './model';

export function encodeManifest(header: ManifestHeader, items: Iterable<ManifestItem>): Uint8Array {
  const lines = [JSON.stringify(header)];
  for (const item of items) lines.push(JSON.stringify(item));
  return new TextEncoder().encode(lines.join('\n') + '\n');
}

export interface DecodedManifest {
  header: ManifestHeader;
  items: ManifestItem[];
}

/** Throws `data-loss` naming the first bad line. */
export function decodeManifest(bytes: Uint8Array): DecodedManifest {
  const lines = new TextDecoder().decode(bytes).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const parseLine = <T>(schema: z.ZodType<T>, line: string | undefined, n: number): T => {
    try {
      return schema.parse(JSON.parse(line ?? ''));
    } catch (err) {
      throw lifeboatError('data-loss', `manifest line ${n} is corrupt: ${(err as Error).message.slice(0, 200)}`);
    }
  };
  const header = parseLine(ManifestHeader, lines[0], 1);
  const items = lines.slice(1).map((line, i) => parseLine(ManifestItem, line, i + 2));
  if (items.length !== header.items) {
    throw lifeboatError('data-loss', `manifest lists ${items.length} items, its header says ${header.items}`);
  }
  return { header, items };
}
