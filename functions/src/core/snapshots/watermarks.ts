/**
 * Chat watermarks: per conversation, the latest time (`at`) of a snapshot's stored messages. An
 * incremental chats backup stores only what is newer (`chatWatermarks` in the strategy context).
 * Finalize folds them from the segments' stats and keeps them as a small content blob named by
 * the manifest root, so the next backup reads one blob, not the snapshot's segments.
 */
import { z } from 'zod';
import type { CallOptions } from '../../ports';
import type { ContentStore } from '../content-store';
import { lifeboatError } from '../errors';
import type { ManifestItem, Snapshot } from '../model';
import { compareUtcIso } from '../utc-iso';
import { segmentEntries } from './manifest-tree';
import { segmentStats } from './segment-stats';
import { openManifest, readSegment, treeOf } from './snapshot-manifest';

const WATERMARKS_FORMAT = 'lifeboat-watermarks/1' as const;
/** The chat watermark blob (`encodeWatermarks`). */
export const Watermarks = z.object({ format: z.literal(WATERMARKS_FORMAT), marks: z.array(z.tuple([z.string(), z.string()])) });

/** Sorted by conversation, so equal watermarks are the same blob. */
export function encodeWatermarks(marks: ReadonlyMap<string, string>): Uint8Array {
  const sorted = [...marks.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new TextEncoder().encode(JSON.stringify({ format: WATERMARKS_FORMAT, marks: sorted }));
}

function fold(into: Map<string, string>, marks: Iterable<readonly [string, string]>): void {
  for (const [conversation, at] of marks) {
    const current = into.get(conversation);
    if (current === undefined || compareUtcIso(at, current) > 0) into.set(conversation, at);
  }
}

/** Per conversation, the latest `at` of the given stored chat items (format-1 manifests). */
export function watermarksOfItems(items: Iterable<ManifestItem>): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of items) {
    if (item.type !== 'chats' || item.blob === null || item.conversationId === undefined || item.at === undefined) continue;
    fold(out, [[item.conversationId, item.at]]);
  }
  return out;
}

/** A snapshot's chat watermarks: its watermark blob, or (older snapshots) folded from its items. */
export async function snapshotWatermarks(content: ContentStore, snapshot: Pick<Snapshot, 'uid' | 'manifestRef'>, options: CallOptions = {}): Promise<Map<string, string>> {
  const manifest = await openManifest(content, snapshot, options);
  if (manifest.format === 1) return watermarksOfItems(manifest.items);
  const chats = manifest.root.types.find((t) => t.type === 'chats');
  if (chats?.watermarks) {
    const bytes = await content.get(snapshot.uid, chats.watermarks, options);
    const parsed = Watermarks.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    if (!parsed.success) throw lifeboatError('data-loss', `watermarks ${chats.watermarks} are corrupt`);
    return new Map(parsed.data.marks);
  }
  const out = new Map<string, string>();
  const tree = treeOf(manifest.root, 'chats');
  if (tree) {
    for await (const { entry } of segmentEntries(content, snapshot.uid, tree, 0, options)) {
      fold(out, entry.marks ?? segmentStats((await readSegment(content, snapshot.uid, entry.ref, options)).items).marks ?? []);
    }
  }
  return out;
}
