/**
 * Reading a snapshot's manifest, whatever its format (docs/invariants.md, "Manifests"):
 * - format 1 (`lifeboat-manifest/1`, snapshots written before segments): one NDJSON blob, a
 *   header line and one line per item, read whole;
 * - format 2 (`lifeboat-manifest/2`): a small root naming, per type, a tree of content-addressed
 *   nodes over segments (chunk results), read as a stream: memory never grows with the items.
 */
import type { CallOptions } from '../../ports';
import type { ContentStore } from '../content-store';
import { lifeboatError } from '../errors';
import { decodeManifest, type DecodedManifest } from '../manifest';
import { ManifestRoot, ManifestSegment, MANIFEST_FORMAT, MANIFEST_V2_FORMAT, type BackupType, type ManifestItem, type NodeEntry, type Snapshot } from '../model';
import { inFileOrder } from '@lifeboat/protocol';
import { readNode, segmentEntries, type PositionedEntry } from './manifest-tree';

export type OpenedManifest = ({ format: 1 } & DecodedManifest) | { format: 2; root: ManifestRoot };

function corrupt(what: string, err: unknown): never {
  throw lifeboatError('data-loss', `${what} is corrupt: ${(err as Error).message.slice(0, 200)}`);
}

/** Reads a snapshot's manifest blob (hash-checked) and tells its format; a format-1 manifest is decoded whole. */
export async function openManifest(content: ContentStore, snapshot: Pick<Snapshot, 'uid' | 'manifestRef'>, options: CallOptions = {}): Promise<OpenedManifest> {
  const bytes = await content.get(snapshot.uid, snapshot.manifestRef, options);
  const text = new TextDecoder().decode(bytes);
  const newline = text.indexOf('\n');
  let first: unknown;
  try {
    first = JSON.parse(newline === -1 ? text : text.slice(0, newline));
  } catch (err) {
    corrupt(`manifest ${snapshot.manifestRef}`, err);
  }
  const format = (first as { format?: unknown } | null)?.format;
  if (format === MANIFEST_FORMAT) return { format: 1, ...decodeManifest(bytes) };
  if (format !== MANIFEST_V2_FORMAT) throw lifeboatError('data-loss', `manifest ${snapshot.manifestRef} has an unknown format ${JSON.stringify(format)}`);
  const root = ManifestRoot.safeParse(first);
  if (!root.success) corrupt(`manifest ${snapshot.manifestRef}`, root.error);
  return { format: 2, root: root.data };
}

/** Reads one segment (a chunk result or a carried segment), hash-checked and validated. */
export async function readSegment(content: ContentStore, uid: string, ref: string, options: CallOptions = {}): Promise<ManifestSegment> {
  const bytes = await content.get(uid, ref, options);
  try {
    return ManifestSegment.parse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch (err) {
    return corrupt(`manifest segment ${ref}`, err);
  }
}

/** The tree of one type in a format-2 root, or null when the snapshot holds none of it. */
export function treeOf(root: ManifestRoot, type: BackupType): NodeEntry | null {
  return root.types.find((t) => t.type === type)?.tree ?? null;
}

/** Up to `window` reads of an async sequence's mapped values in flight, yielded in order. */
export async function* readAhead<T, R>(source: AsyncIterable<T>, fn: (item: T) => Promise<R>, window: number): AsyncGenerator<R> {
  const pending: Array<Promise<R>> = [];
  const iterator = source[Symbol.asyncIterator]();
  let done = false;
  const fill = async () => {
    while (!done && pending.length < window) {
      const next = await iterator.next();
      if (next.done) {
        done = true;
        break;
      }
      const p = fn(next.value);
      // Awaited in order below; a rejection is observed there, not reported as unhandled.
      p.catch(() => undefined);
      pending.push(p);
    }
  };
  try {
    await fill();
    while (pending.length > 0) {
      const value = await (pending.shift() as Promise<R>);
      await fill();
      yield value;
    }
  } finally {
    if (!done) await iterator.return?.();
  }
}

/** Segments read ahead by item walks. */
const SEGMENT_READ_AHEAD = 4;

export interface ItemWalkOptions extends CallOptions {
  /** Only these types. @default all */
  types?: readonly BackupType[];
}

export interface PositionedItem {
  item: ManifestItem;
  /** Where the item sits: its type, its segment's position in the type's tree, its index in the segment. */
  at: { type: BackupType; segment: number; index: number };
}

/**
 * Every item of a snapshot in manifest order (type by type in the root's order; a large file's
 * parts together in offset order), with its position. Format 2 streams segment by segment;
 * format 1 reads its one blob. `from` starts a format-2 walk at a position (restore-plan pages).
 */
export async function* positionedItems(
  content: ContentStore,
  snapshot: Pick<Snapshot, 'uid' | 'manifestRef'>,
  options: ItemWalkOptions & { from?: PositionedItem['at'] } = {},
): AsyncGenerator<PositionedItem> {
  const manifest = await openManifest(content, snapshot, options);
  const types = options.types ? new Set(options.types) : null;
  if (manifest.format === 1) {
    const ordered = inFileOrder(manifest.items);
    for (let i = 0; i < ordered.length; i++) {
      const item = ordered[i] as ManifestItem;
      if (types && !types.has(item.type)) continue;
      if (options.from && i < options.from.index) continue;
      yield { item, at: { type: item.type, segment: 0, index: i } };
    }
    return;
  }
  const from = options.from;
  let started = from === undefined;
  for (const { type, tree } of manifest.root.types) {
    if (!started && type !== from?.type) continue;
    const firstSegment = !started && from ? from.segment : 0;
    const firstIndex = !started && from ? from.index : 0;
    started = true;
    if (!tree || (types && !types.has(type))) continue;
    const segments = segmentEntries(content, snapshot.uid, tree, firstSegment, options);
    const read = (p: PositionedEntry) => readSegment(content, snapshot.uid, p.entry.ref, options).then((segment) => ({ p, segment }));
    for await (const { p, segment } of readAhead(segments, read, SEGMENT_READ_AHEAD)) {
      const start = p.ordinal === firstSegment ? firstIndex : 0;
      for (let i = start; i < segment.items.length; i++) yield { item: segment.items[i] as ManifestItem, at: { type, segment: p.ordinal, index: i } };
    }
  }
}

/** Every item of a snapshot in manifest order. */
export async function* manifestItems(content: ContentStore, snapshot: Pick<Snapshot, 'uid' | 'manifestRef'>, options: ItemWalkOptions = {}): AsyncGenerator<ManifestItem> {
  for await (const { item } of positionedItems(content, snapshot, options)) yield item;
}

/**
 * Every blob a snapshot's manifest consists of (not the items' content blobs): the root, and for
 * format 2 every node and segment of its trees and the chat watermarks, each once.
 */
export async function* manifestObjects(content: ContentStore, snapshot: Pick<Snapshot, 'uid' | 'manifestRef'>, options: CallOptions = {}): AsyncGenerator<{ kind: 'manifest' | 'node' | 'segment' | 'watermarks'; ref: string }> {
  const manifest = await openManifest(content, snapshot, options);
  yield { kind: 'manifest', ref: snapshot.manifestRef };
  if (manifest.format === 1) return;
  const seen = new Set<string>();
  async function* walk(entry: NodeEntry): AsyncGenerator<{ kind: 'node' | 'segment'; ref: string }> {
    if (seen.has(entry.ref)) return;
    seen.add(entry.ref);
    yield { kind: 'node', ref: entry.ref };
    const node = await readNode(content, snapshot.uid, entry, options);
    if (node.level === 1) {
      for (const segment of node.entries) {
        if (seen.has(segment.ref)) continue;
        seen.add(segment.ref);
        yield { kind: 'segment', ref: segment.ref };
      }
    } else {
      for (const child of node.entries as NodeEntry[]) yield* walk(child);
    }
  }
  for (const { tree, watermarks } of manifest.root.types) {
    if (watermarks) yield { kind: 'watermarks', ref: watermarks };
    if (tree) yield* walk(tree);
  }
}
