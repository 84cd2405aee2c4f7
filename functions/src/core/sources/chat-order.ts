/**
 * A manifest lists each conversation's messages in time order, (sentAt, id), the order of a
 * conversation's pack (strategies/chats.ts), so every restore (folder, SDK, restore plan) writes a
 * conversation in order by taking items as they come (docs/invariants.md, "Verify and restore").
 *
 * A recipe chunk (record-level deltas) lists the messages it copies from earlier chunks after its
 * own new ones, so processChunk orders such a chunk's result here; across segments the device's
 * chunking keeps conversations in order, and with `incrementalOnly` finalize puts the carried
 * history before the job's new messages (an edited old message then follows the new ones: the
 * one case left out of order). Ordering one list:
 *
 * 1. Its items fall into runs that are in order by construction: consecutive items of one pack
 *    with rising `part` (a pack's lines are sorted).
 * 2. Neighbouring runs whose boundary is in order are joined (one comparison per boundary), so a
 *    conversation already in order costs nothing more, however many chunks it spans.
 * 3. Otherwise the longest run is the base and every other run is merged into it: a short run
 *    (new messages are few) by binary search, so the base (the carried or copied history) is
 *    probed only O(log n) times per placed message; a long one by a plain two-way merge.
 *
 * The key a manifest item carries is `at` (its latest time): equal to `sentAt` unless the message
 * was edited or deleted (transform `edited` / `tombstone`), whose `sentAt` is read from its pack's
 * line only when a comparison needs it. Ordering never fails a backup: a pack that cannot be read
 * orders its message by `at`. The merged conversation takes the place of its first item;
 * everything else keeps its place.
 */
import type { ContentStore } from '../content-store';
import type { ManifestItem } from '../model';
import { splitLines } from '../snapshots/restore-items';
import { compareUtcIso } from '../utc-iso';

interface Key {
  sentAt: string;
  id: string;
}

/** An item and its key, known once computed (a read for an edited message). */
interface Keyed {
  item: ManifestItem;
  key: Key | null;
}

/** True when `at` is not the message's sentAt (an edit or a deletion came later). */
const timeIsNotSent = (item: ManifestItem) => item.transforms.includes('edited') || item.transforms.includes('tombstone');

const compareKeys = (a: Key, b: Key) => compareUtcIso(a.sentAt, b.sentAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Chat items that can be ordered: with a blob, a conversation and a time. */
const orderable = (item: ManifestItem) => item.type === 'chats' && item.blob !== null && item.conversationId !== undefined && item.at !== undefined;

/** `items` with each conversation's stored messages in (sentAt, id) order, at the place of its first message. */
export async function orderChats(content: ContentStore, uid: string, items: readonly ManifestItem[]): Promise<ManifestItem[]> {
  const conversations = new Map<string, ManifestItem[]>();
  for (const item of items) {
    if (!orderable(item)) continue;
    const list = conversations.get(item.conversationId as string);
    if (list) list.push(item);
    else conversations.set(item.conversationId as string, [item]);
  }
  const packs = new PackCache(content, uid);
  const keyOf = async (k: Keyed): Promise<Key> => {
    k.key ??= { sentAt: timeIsNotSent(k.item) ? await packs.sentAt(k.item) : (k.item.at as string), id: k.item.sourceId };
    return k.key;
  };
  const reordered = new Map<string, ManifestItem[]>();
  for (const [conversationId, list] of conversations) {
    const ordered = await orderConversation(list, keyOf);
    if (ordered) reordered.set(conversationId, ordered);
  }
  if (reordered.size === 0) return [...items];

  const out: ManifestItem[] = [];
  const placed = new Set<string>();
  for (const item of items) {
    const run = orderable(item) ? reordered.get(item.conversationId as string) : undefined;
    if (!run) {
      out.push(item);
      continue;
    }
    if (placed.has(item.conversationId as string)) continue;
    placed.add(item.conversationId as string);
    for (const member of run) out.push(member);
  }
  return out;
}

/** The conversation's items in order, or null when they are in order already. */
async function orderConversation(items: ManifestItem[], keyOf: (k: Keyed) => Promise<Key>): Promise<ManifestItem[] | null> {
  // 1. Runs of one pack with rising parts are in order as they stand.
  const runs: Keyed[][] = [];
  let current: Keyed[] = [];
  for (const item of items) {
    const last = current[current.length - 1]?.item;
    if (last && !(last.blob === item.blob && (item.part ?? -1) > (last.part ?? -1))) {
      runs.push(current);
      current = [];
    }
    current.push({ item, key: null });
  }
  runs.push(current);
  // 2. Neighbours whose boundary is in order make one run.
  const joined: Keyed[][] = [runs[0] as Keyed[]];
  for (const run of runs.slice(1)) {
    const before = joined[joined.length - 1] as Keyed[];
    if (compareKeys(await keyOf(before[before.length - 1] as Keyed), await keyOf(run[0] as Keyed)) < 0) before.push(...run);
    else joined.push(run);
  }
  if (joined.length === 1) return null;
  // 3. The longest run is the base; the others' messages go into it by binary search.
  joined.sort((a, b) => b.length - a.length);
  let base = joined[0] as Keyed[];
  for (const run of joined.slice(1)) base = await mergeInto(base, run, keyOf);
  return base.map((k) => k.item);
}

/**
 * Merges a run (in order) into the base (in order). A short run goes in by binary search, probing
 * the base O(log n) times per item (few keys read); a long one by a plain two-way merge.
 */
async function mergeInto(base: Keyed[], run: Keyed[], keyOf: (k: Keyed) => Promise<Key>): Promise<Keyed[]> {
  const key = (k: Keyed): Key | Promise<Key> => k.key ?? keyOf(k);
  const out: Keyed[] = [];
  let from = 0;
  const binary = run.length * Math.log2(base.length + 1) < base.length + run.length;
  for (const k of run) {
    const wanted = await key(k);
    if (binary) {
      // The first base item after this one, among those not placed yet.
      let lo = from;
      let hi = base.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareKeys(await key(base[mid] as Keyed), wanted) < 0) lo = mid + 1;
        else hi = mid;
      }
      for (; from < lo; from++) out.push(base[from] as Keyed);
    } else {
      while (from < base.length && compareKeys(await key(base[from] as Keyed), wanted) < 0) out.push(base[from++] as Keyed);
    }
    out.push(k);
  }
  for (; from < base.length; from++) out.push(base[from] as Keyed);
  return out;
}

/** The packs the ordering reads, a few at a time (an edit's neighbours usually share its pack). */
class PackCache {
  private readonly packs = new Map<string, Promise<Uint8Array[] | null>>();

  constructor(private readonly content: ContentStore, private readonly uid: string) {}

  /** The message's sentAt from its pack line; its `at` when the line cannot be had. */
  async sentAt(item: ManifestItem): Promise<string> {
    const lines = item.blob && item.part !== undefined ? await this.lines(item.blob) : null;
    const line = lines?.[item.part as number];
    if (line) {
      try {
        const sentAt = (JSON.parse(new TextDecoder().decode(line)) as { sentAt?: unknown }).sentAt;
        if (typeof sentAt === 'string') return sentAt;
      } catch {
        // Falls through to `at`.
      }
    }
    return item.at as string;
  }

  private lines(blob: string): Promise<Uint8Array[] | null> {
    let lines = this.packs.get(blob);
    if (!lines) {
      lines = this.content.get(this.uid, blob).then(splitLines, () => null);
      this.packs.set(blob, lines);
      while (this.packs.size > 8) this.packs.delete(this.packs.keys().next().value as string);
    }
    return lines;
  }
}
