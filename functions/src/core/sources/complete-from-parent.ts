/**
 * Run by finalize: compares the job's items with its parent snapshot's, type by type, and with
 * `incrementalOnly` carries the parent's chats and media forward, so every snapshot's manifest
 * lists the whole set and restores alone (restore never walks a chain of snapshots).
 *
 * - contacts and device info are always sent whole: the diff names contacts added, changed (other
 *   record digest) and removed (in the parent, not here);
 * - chats and media: without `incrementalOnly` the same; with it the device (or source) sends only
 *   what changed, so what the job lacks is carried forward, and removals are the tombstones sent.
 */
import type { ContentStore } from '../content-store';
import type { JobStore } from '../../ports';
import type { BackupJob, BackupType, ManifestItem, SnapshotChanges } from '../model';
import { parentItems, parentSnapshotOf } from './baseline';
import { orderChats } from './chat-order';

export interface CompletedItems {
  /**
   * The job's items, then those carried forward from the parent, with each conversation's
   * messages in time order at the place of its first one (`chat-order.ts`).
   */
  items: ManifestItem[];
  changes: Partial<Record<BackupType, SnapshotChanges>>;
}

/** Identity of an item within its type: chat message ids are only unique per conversation. */
const keyOf = (item: ManifestItem): string => (item.type === 'chats' ? `${item.conversationId ?? ''}\u0000${item.sourceId}` : item.sourceId);
/** Equal records have equal digests; older manifests without one compare by blob and line. */
const identityOf = (item: ManifestItem): string => item.digest ?? `${item.blob ?? ''}:${item.part ?? ''}`;

const CARRIED_TYPES: ReadonlySet<BackupType> = new Set(['chats', 'media']);

export async function completeFromParent(store: JobStore, content: ContentStore, job: BackupJob, items: readonly ManifestItem[]): Promise<CompletedItems> {
  const out: ManifestItem[] = [...items];
  const changes: Partial<Record<BackupType, SnapshotChanges>> = {};
  for (const type of job.types) {
    // Each type against its own baseline: the device's newest snapshot holding it.
    const parent = await parentSnapshotOf(store, job, type);
    const previous = parent ? await parentItems(content, parent) : [];
    const current = new Map(items.filter((i) => i.type === type && i.blob !== null).map((i) => [keyOf(i), i]));
    const before = new Map(previous.filter((i) => i.type === type && i.blob !== null).map((i) => [keyOf(i), i]));
    const carry = job.options.incrementalOnly && CARRIED_TYPES.has(type);
    const counts = { added: 0, changed: 0, removed: 0 };
    let unchanged = 0;
    let carried = 0;
    for (const [key, item] of current) {
      const prior = before.get(key);
      if (item.transforms.includes('tombstone') && prior?.transforms.includes('tombstone') !== true) counts.removed += 1;
      else if (!prior) counts.added += 1;
      else if (identityOf(prior) !== identityOf(item)) counts.changed += 1;
      else unchanged += 1;
    }
    for (const [key, item] of before) {
      if (current.has(key)) continue;
      if (carry) {
        out.push(item);
        carried += 1;
      } else {
        counts.removed += 1;
      }
    }
    changes[type] = { parentId: parent?.id ?? null, ...counts, unchanged, carried };
  }
  // Copied, carried and new messages come in runs; each conversation is put in time order.
  return { items: await orderChats(content, job.uid, out), changes };
}
