/**
 * What changed between two snapshots, item by item (`lifeboat diff A B`): each item is named by
 * its type and id (a chat message by conversation and id) and compared by its record digest (or
 * blob and line for manifests without one; a large file by its parts). Manifests are read through
 * `restoreItems` without reading any blob, so a diff costs two manifest reads.
 */
import type { ContentStore } from '../content-store';
import type { BackupType, ManifestItem, Snapshot, SnapshotTotals } from '../model';
import { restoreItems } from './restore-items';

export const ITEM_CHANGES = ['added', 'removed', 'changed'] as const;
export type ItemChange = (typeof ITEM_CHANGES)[number];

export interface TypeDiff {
  added: number;
  removed: number;
  changed: number;
  unchanged: number;
}

export interface SnapshotDiff {
  from: { id: string; createdAt: number; totals: SnapshotTotals };
  to: { id: string; createdAt: number; totals: SnapshotTotals };
  /** Per type found in either snapshot. */
  byType: Partial<Record<BackupType, TypeDiff>>;
  /** Every added, removed or changed item (with `items`), in `to`'s order then `from`'s for removals. */
  items?: Array<{ type: BackupType; sourceId: string; conversationId?: string; change: ItemChange }>;
}

export interface DiffOptions {
  /** List each changed item, not only the counts. @default false */
  items?: boolean;
  signal?: AbortSignal;
}

/** Identity of an item within its snapshot: chat message ids are only unique per conversation. */
function keyOf(item: ManifestItem): string {
  return item.type === 'chats' ? `chats\u0000${item.conversationId ?? ''}\u0000${item.sourceId}` : `${item.type}\u0000${item.sourceId}`;
}

/** What an item holds: equal records have equal digests; skipped items compare by their reason. */
function contentOf(item: ManifestItem): string {
  if (item.blob === null) return `skipped:${item.skipReason ?? ''}`;
  const part = item.segment ? `@${item.segment.offset}/${item.segment.fileSize}` : '';
  return `${item.digest ?? `${item.blob}:${item.part ?? ''}`}${part}`;
}

/** The items of a snapshot, keyed, with a large file's parts joined into one identity. */
async function itemsOf(content: ContentStore, snapshot: Snapshot, signal?: AbortSignal): Promise<Map<string, { item: ManifestItem; content: string }>> {
  const out = new Map<string, { item: ManifestItem; content: string }>();
  for await (const { item } of restoreItems(content, snapshot, { itemsOnly: true }, signal)) {
    const key = keyOf(item);
    const known = out.get(key);
    if (known) known.content += `|${contentOf(item)}`;
    else out.set(key, { item, content: contentOf(item) });
  }
  return out;
}

export async function diffSnapshots(content: ContentStore, from: Snapshot, to: Snapshot, options: DiffOptions = {}): Promise<SnapshotDiff> {
  const before = await itemsOf(content, from, options.signal);
  const after = await itemsOf(content, to, options.signal);
  const diff: SnapshotDiff = {
    from: { id: from.id, createdAt: from.createdAt, totals: from.totals },
    to: { id: to.id, createdAt: to.createdAt, totals: to.totals },
    byType: {},
    ...(options.items ? { items: [] } : {}),
  };
  const count = (item: ManifestItem, change: ItemChange | 'unchanged') => {
    const entry = (diff.byType[item.type] ??= { added: 0, removed: 0, changed: 0, unchanged: 0 });
    entry[change] += 1;
    if (change !== 'unchanged') {
      diff.items?.push({ type: item.type, sourceId: item.sourceId, ...(item.conversationId !== undefined ? { conversationId: item.conversationId } : {}), change });
    }
  };
  for (const [key, now] of after) {
    const then = before.get(key);
    count(now.item, !then ? 'added' : then.content === now.content ? 'unchanged' : 'changed');
  }
  for (const [key, then] of before) if (!after.has(key)) count(then.item, 'removed');
  return diff;
}
