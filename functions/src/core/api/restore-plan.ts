/**
 * `getRestorePlan`: which items of a snapshot to restore and where to fetch their bytes. The plan
 * lists the selected manifest items in file order (`inFileOrder`), a page at a time, with one
 * short-lived download link per distinct blob of the page; the device fetches each blob once,
 * checks its SHA-256 against the blob's name, and cuts packed items out by their `part` (NDJSON
 * line), as `restoreItems` does for the CLI.
 *
 * Pages keep a plan's response small whatever the snapshot's size (a callable's response is
 * bounded) and its links fresh: a device asks for the next page when it gets there, and asks for
 * the same page again when a link expired under a slow download. A manifest never changes, so
 * the page token is the selected item's index and a page asked for twice is the same page.
 */
import { z } from 'zod';
import { contentStoreOf, type EngineDeps } from '../deps';
import { lifeboatError } from '../errors';
import { assertOwner } from '../jobs';
import { BackupType, type ManifestItem } from '../model';
import { loadManifest } from '../snapshots/load-manifest';
import { isOpaqueItem } from '../e2e-opaque';
import { inFileOrder, splitLines } from '../snapshots/restore-items';
import { parseInput, requireUid, type CallableRequest } from './callable';

/** How long plan links stay valid. @default 15 minutes */
export const RESTORE_LINK_TTL_MS = 15 * 60_000;

/** Items in a plan page unless the caller asks for another size. */
export const RESTORE_PAGE_SIZE = 2000;

const Instant = z.union([z.number().int(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]);

export const RestorePlanInput = z.strictObject({
  snapshotId: z.string().min(1).max(200),
  /** Only these types. @default all */
  types: z.array(BackupType).min(1).optional(),
  /** Chats: only these conversations (other types are not filtered by it). @default all */
  conversations: z.array(z.string().min(1).max(256)).min(1).max(1000).optional(),
  /** Chats: only messages whose time (sent, or last edited) is at or after this instant (epoch ms or ISO). @default no bound */
  from: Instant.optional(),
  /** Chats: only messages whose time is before this instant (epoch ms or ISO). @default no bound */
  to: Instant.optional(),
  /** Only these items (source ids). @default all */
  itemIds: z.array(z.string().min(1).max(512)).min(1).max(10_000).optional(),
  /** Skipped items (no bytes, a reason) in the plan too. @default true */
  includeSkipped: z.boolean().optional(),
  /** Items per page. @default 2000 ({@link RESTORE_PAGE_SIZE}) */
  pageSize: z.number().int().min(1).max(10_000).optional(),
  /** The `nextPageToken` of the previous page. @default the first page */
  pageToken: z.string().regex(/^[0-9]{1,9}$/, { error: 'is not a page token of this plan' }).optional(),
});
export type RestorePlanInput = z.input<typeof RestorePlanInput>;

/** A manifest item as the plan hands it out. */
export type RestorePlanItem = ManifestItem;

export interface RestorePlan {
  snapshotId: string;
  createdAt: number;
  /** This page's items. */
  items: RestorePlanItem[];
  /** One link per distinct blob this page's items need; `size` is the blob's plaintext size when known. */
  downloads: Record<string, { url: string; size: number | null }>;
  expiresAt: number;
  /** Items selected over all pages. */
  totalItems: number;
  /** Distinct blobs the items of all pages need. */
  totalBlobs: number;
  /** Asks for the next page; null on the last one. */
  nextPageToken: string | null;
}

const ChatLine = z.looseObject({ conversationId: z.string(), sentAt: z.string() });

export async function getRestorePlan(request: CallableRequest, deps: EngineDeps): Promise<RestorePlan> {
  const uid = requireUid(request);
  const input = parseInput(RestorePlanInput, request.data, 'getRestorePlan');
  const snapshot = assertOwner(await deps.store.getSnapshot(input.snapshotId), uid, 'snapshot', input.snapshotId);
  if (!deps.downloads) throw lifeboatError('unimplemented', 'getRestorePlan: this runtime has no download links');
  if (input.from !== undefined && input.to !== undefined && input.to < input.from) {
    throw lifeboatError('invalid-argument', 'getRestorePlan: `to` is before `from`');
  }
  const content = contentStoreOf(deps);
  const { items } = await loadManifest(content, snapshot);
  const types = input.types ? new Set(input.types) : null;
  const ids = input.itemIds ? new Set(input.itemIds) : null;
  const conversations = input.conversations ? new Set(input.conversations) : null;
  const chatFilter = conversations !== null || input.from !== undefined || input.to !== undefined;
  // Chat packs are read only when a conversation or date filter needs their lines, one at a time,
  // and split once: a pack's messages are usually consecutive items.
  let pack = null as { hash: string; lines: Uint8Array[] } | null;

  const selected: RestorePlanItem[] = [];
  for (const item of inFileOrder(items)) {
    if (types && !types.has(item.type)) continue;
    // An end-to-end chunk's items are known only to the device: it applies the item, conversation
    // and date filters itself once it has decrypted the chunk.
    if (isOpaqueItem(item)) {
      selected.push(item);
      continue;
    }
    if (ids && !ids.has(item.sourceId)) continue;
    if (!item.blob) {
      if (input.includeSkipped ?? true) selected.push(item);
      continue;
    }
    if (item.type === 'chats' && chatFilter) {
      let conversationId = item.conversationId;
      let sentAt = item.at;
      // Manifests written before items carried these fields: read the message from its pack.
      if ((conversationId === undefined || sentAt === undefined) && item.part !== undefined) {
        if (pack?.hash !== item.blob) pack = { hash: item.blob, lines: splitLines(await content.get(uid, item.blob)) };
        const line = pack.lines[item.part];
        const message = line ? ChatLine.safeParse(JSON.parse(new TextDecoder().decode(line))) : null;
        if (!message?.success) throw lifeboatError('data-loss', `pack ${item.blob} has no message at line ${item.part} [item=${item.sourceId}]`);
        conversationId = message.data.conversationId;
        sentAt = message.data.sentAt;
      }
      const time = sentAt === undefined ? Number.NaN : Date.parse(sentAt);
      if (conversations && (conversationId === undefined || !conversations.has(conversationId))) continue;
      if (input.from !== undefined && !(time >= input.from)) continue;
      if (input.to !== undefined && !(time < input.to)) continue;
      selected.push(item.conversationId === undefined && conversationId !== undefined ? { ...item, conversationId } : item);
      continue;
    }
    selected.push(item);
  }

  const start = input.pageToken === undefined ? 0 : Number(input.pageToken);
  if (start > selected.length || (start === selected.length && start > 0)) {
    throw lifeboatError('invalid-argument', `getRestorePlan: page token ${input.pageToken} is past the plan's ${selected.length} items`);
  }
  const end = Math.min(selected.length, start + (input.pageSize ?? RESTORE_PAGE_SIZE));
  const page = selected.slice(start, end);
  const expiresAt = deps.clock.now() + RESTORE_LINK_TTL_MS;
  const downloads: RestorePlan['downloads'] = {};
  for (const item of page) {
    if (!item.blob || downloads[item.blob]) continue;
    downloads[item.blob] = { url: await deps.downloads.link({ uid, blob: item.blob, expiresAt }), size: item.blobSize ?? null };
  }
  return {
    snapshotId: snapshot.id,
    createdAt: snapshot.createdAt,
    items: page,
    downloads,
    expiresAt,
    totalItems: selected.length,
    totalBlobs: new Set(selected.flatMap((i) => (i.blob ? [i.blob] : []))).size,
    nextPageToken: end < selected.length ? String(end) : null,
  };
}
