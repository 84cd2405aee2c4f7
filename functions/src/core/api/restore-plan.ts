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
import { BackupType, RESTORE_PAGE_SIZE, RestorePlanInput, type RestorePlan } from '@lifeboat/protocol';
import type { ManifestItem, SegmentEntry } from '../model';
import { segmentEntries } from '../snapshots/manifest-tree';
import { openManifest, readSegment } from '../snapshots/snapshot-manifest';
import { isOpaqueItem } from '../e2e-opaque';
import { inFileOrder, splitLines } from '../snapshots/restore-items';
import { parseInput, requireUid, type CallableRequest } from './callable';

/** How long plan links stay valid. @default 15 minutes */
export const RESTORE_LINK_TTL_MS = 15 * 60_000;

/** A manifest item as the plan hands it out. */
export type RestorePlanItem = ManifestItem;

const ChatLine = z.looseObject({ conversationId: z.string(), sentAt: z.string() });

/** Segments one plan page reads at most: a page with a narrow filter returns early, with a token to go on. */
export const RESTORE_PAGE_SEGMENTS = 64;

interface Selection {
  input: z.infer<typeof RestorePlanInput>;
  uid: string;
  content: ReturnType<typeof contentStoreOf>;
  types: ReadonlySet<BackupType> | null;
  ids: ReadonlySet<string> | null;
  conversations: ReadonlySet<string> | null;
  chatFilter: boolean;
  pack: { hash: string; lines: Uint8Array[] } | null;
}

/** Whether an item is in the plan, and as what (a chat item may gain its conversation). */
async function select(sel: Selection, item: ManifestItem): Promise<RestorePlanItem | null> {
  const { input } = sel;
  if (sel.types && !sel.types.has(item.type)) return null;
  // An end-to-end chunk's items are known only to the device: it applies the item, conversation
  // and date filters itself once it has decrypted the chunk.
  if (isOpaqueItem(item)) return item;
  if (sel.ids && !sel.ids.has(item.sourceId)) return null;
  if (!item.blob) return (input.includeSkipped ?? true) ? item : null;
  if (item.type !== 'chats' || !sel.chatFilter) return item;
  let conversationId = item.conversationId;
  let sentAt = item.at;
  // Manifests written before items carried these fields: read the message from its pack.
  if ((conversationId === undefined || sentAt === undefined) && item.part !== undefined) {
    // Chat packs are read only when a conversation or date filter needs their lines, one at a
    // time, and split once: a pack's messages are usually consecutive items.
    if (sel.pack?.hash !== item.blob) sel.pack = { hash: item.blob, lines: splitLines(await sel.content.get(sel.uid, item.blob)) };
    const line = sel.pack.lines[item.part];
    const message = line ? ChatLine.safeParse(JSON.parse(new TextDecoder().decode(line))) : null;
    if (!message?.success) throw lifeboatError('data-loss', `pack ${item.blob} has no message at line ${item.part} [item=${item.sourceId}]`);
    conversationId = message.data.conversationId;
    sentAt = message.data.sentAt;
  }
  const time = sentAt === undefined ? Number.NaN : Date.parse(sentAt);
  if (sel.conversations && (conversationId === undefined || !sel.conversations.has(conversationId))) return null;
  if (input.from !== undefined && !(time >= input.from)) return null;
  if (input.to !== undefined && !(time < input.to)) return null;
  return item.conversationId === undefined && conversationId !== undefined ? { ...item, conversationId } : item;
}

/** A segment no item of which the chat filters can select, known from its stats alone. */
function skipsSegment(sel: Selection, type: BackupType, entry: SegmentEntry): boolean {
  if (type !== 'chats' || !sel.chatFilter || !entry.marks || entry.skipped > 0) return false;
  const { from } = sel.input;
  return entry.marks.every(([conversation, at]) => (sel.conversations !== null && !sel.conversations.has(conversation)) || (from !== undefined && Date.parse(at) < from));
}

async function linksFor(deps: EngineDeps, uid: string, page: readonly RestorePlanItem[], expiresAt: number): Promise<RestorePlan['downloads']> {
  const downloads: RestorePlan['downloads'] = {};
  for (const item of page) {
    if (!item.blob || downloads[item.blob]) continue;
    downloads[item.blob] = { url: await (deps.downloads as NonNullable<EngineDeps['downloads']>).link({ uid, blob: item.blob, expiresAt }), size: item.blobSize ?? null };
  }
  return downloads;
}

export async function getRestorePlan(request: CallableRequest, deps: EngineDeps): Promise<RestorePlan> {
  const uid = requireUid(request);
  const input = parseInput(RestorePlanInput, request.data, 'getRestorePlan');
  const snapshot = assertOwner(await deps.store.getSnapshot(input.snapshotId), uid, 'snapshot', input.snapshotId);
  if (!deps.downloads) throw lifeboatError('unimplemented', 'getRestorePlan: this runtime has no download links');
  if (input.from !== undefined && input.to !== undefined && input.to < input.from) {
    throw lifeboatError('invalid-argument', 'getRestorePlan: `to` is before `from`');
  }
  const content = contentStoreOf(deps);
  const conversations = input.conversations ? new Set(input.conversations) : null;
  const sel: Selection = {
    input,
    uid,
    content,
    types: input.types ? new Set(input.types) : null,
    ids: input.itemIds ? new Set(input.itemIds) : null,
    conversations,
    chatFilter: conversations !== null || input.from !== undefined || input.to !== undefined,
    pack: null,
  };
  const pageSize = input.pageSize ?? RESTORE_PAGE_SIZE;
  const manifest = await openManifest(content, snapshot);
  const expiresAt = deps.clock.now() + RESTORE_LINK_TTL_MS;
  if (manifest.format === 1) return legacyPlan(deps, sel, snapshot, manifest.items, pageSize, expiresAt);

  // Format 2: a page token is the position (type, segment, item) the page starts at, so a page
  // asked for twice is the same page, and a page reads a bounded number of segments.
  const bad = () => lifeboatError('invalid-argument', `getRestorePlan: page token ${input.pageToken} is not a position in this plan`);
  let from: { type: BackupType; segment: number; index: number } | undefined;
  if (input.pageToken !== undefined) {
    const [type, segment, index] = input.pageToken.split('.');
    const parsed = BackupType.safeParse(type);
    if (!parsed.success || segment === undefined || index === undefined) throw bad();
    const tree = manifest.root.types.find((t) => t.type === parsed.data)?.tree;
    if (!tree || Number(segment) >= tree.segments) throw bad();
    from = { type: parsed.data, segment: Number(segment), index: Number(index) };
  }
  const page: RestorePlanItem[] = [];
  let next: string | null = null;
  let segmentsRead = 0;
  outer: for (const { type, tree } of manifest.root.types) {
    if (!tree || (sel.types && !sel.types.has(type))) continue;
    if (from && from.type !== type) {
      if (manifest.root.types.findIndex((t) => t.type === type) < manifest.root.types.findIndex((t) => t.type === from?.type)) continue;
    }
    const startSegment = from?.type === type ? from.segment : 0;
    const startIndex = from?.type === type ? from.index : 0;
    for await (const { entry, ordinal } of segmentEntries(content, uid, tree, startSegment)) {
      if (segmentsRead >= RESTORE_PAGE_SEGMENTS) {
        next = `${type}.${ordinal}.0`;
        break outer;
      }
      if (skipsSegment(sel, type, entry)) continue;
      segmentsRead += 1;
      const { items } = await readSegment(content, uid, entry.ref);
      for (let i = ordinal === startSegment ? startIndex : 0; i < items.length; i++) {
        if (page.length >= pageSize) {
          next = `${type}.${ordinal}.${i}`;
          break outer;
        }
        const chosen = await select(sel, items[i] as ManifestItem);
        if (chosen) page.push(chosen);
      }
    }
  }
  const selectedTypes = manifest.root.types.filter((t) => t.tree && (!sel.types || sel.types.has(t.type)));
  const itemFilter = sel.ids !== null || sel.chatFilter;
  const totalItems = itemFilter
    ? null
    : selectedTypes.reduce((n, t) => n + (t.tree?.items ?? 0) - ((input.includeSkipped ?? true) ? 0 : (t.tree?.skipped ?? 0)), 0);
  return {
    snapshotId: snapshot.id,
    createdAt: snapshot.createdAt,
    items: page,
    downloads: await linksFor(deps, uid, page, expiresAt),
    expiresAt,
    totalItems,
    totalBlobs: null,
    nextPageToken: next,
  };
}

/** Format-1 manifests (read whole anyway): the selection listed once, a page token is an index into it. */
async function legacyPlan(deps: EngineDeps, sel: Selection, snapshot: { id: string; createdAt: number }, items: readonly ManifestItem[], pageSize: number, expiresAt: number): Promise<RestorePlan> {
  const selected: RestorePlanItem[] = [];
  for (const item of inFileOrder(items)) {
    const chosen = await select(sel, item);
    if (chosen) selected.push(chosen);
  }
  const { pageToken } = sel.input;
  if (pageToken !== undefined && !/^[0-9]+$/.test(pageToken)) {
    throw lifeboatError('invalid-argument', `getRestorePlan: page token ${pageToken} is not a position in this plan`);
  }
  const start = pageToken === undefined ? 0 : Number(pageToken);
  if (start > selected.length || (start === selected.length && start > 0)) {
    throw lifeboatError('invalid-argument', `getRestorePlan: page token ${pageToken} is past the plan's ${selected.length} items`);
  }
  const end = Math.min(selected.length, start + pageSize);
  const page = selected.slice(start, end);
  return {
    snapshotId: snapshot.id,
    createdAt: snapshot.createdAt,
    items: page,
    downloads: await linksFor(deps, sel.uid, page, expiresAt),
    expiresAt,
    totalItems: selected.length,
    totalBlobs: new Set(selected.flatMap((i) => (i.blob ? [i.blob] : []))).size,
    nextPageToken: end < selected.length ? String(end) : null,
  };
}
