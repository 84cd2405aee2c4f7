/**
 * A manifest lists each conversation's messages in time order, (sentAt, id), the order of a full
 * backup's packs (strategies/chats.ts), so every restore (folder, SDK, restore plan) writes a
 * conversation in order by reading items as they come (docs/invariants.md, "Verify and restore").
 *
 * An incremental backup breaks that unless finalize merges: its own items (new messages, and
 * edits and deletions of old ones) come before the messages carried forward from the parent. So
 * for each conversation holding both, the carried messages and the job's are merged into one run
 * at the place of the conversation's first new item.
 *
 * The key a manifest item carries is `at` (its latest time): equal to `sentAt` unless the message
 * was edited or deleted (transform `edited` / `tombstone`), whose `sentAt` is read from its pack's
 * line. The job's packs are small (only what changed); the parent's are read only as the merge
 * needs them: the carried run is in order already (the parent was written by this rule, or by a
 * full backup), so each new message finds its place by binary search, and a carried edit is read
 * only when a search lands on it. A parent out of order (written before this rule) is sorted in
 * full once. Ordering never fails a backup: a pack that cannot be read orders by `at`.
 */
import type { ContentStore } from '../content-store';
import type { ManifestItem } from '../model';
import { splitLines } from '../snapshots/restore-items';
import { compareUtcIso } from '../utc-iso';

interface Key {
  sentAt: string;
  id: string;
}

interface Keyed {
  item: ManifestItem;
  /** Known once computed (`keyOf`): a carried edit's costs a pack read, so only when needed. */
  key: Key | null;
}

const known = (k: Keyed): Key => k.key as Key;

/** True when `at` is not the message's sentAt (an edit or a deletion came later). */
const timeIsNotSent = (item: ManifestItem) => item.transforms.includes('edited') || item.transforms.includes('tombstone');

const compareKeys = (a: Key, b: Key) =>
  compareUtcIso(a.sentAt, b.sentAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * `items` with each conversation that has both carried and new chat items merged into one run in
 * (sentAt, id) order, at the place of its first new item; everything else keeps its place.
 *
 * @param carried the items carried forward from the parent (the rest are the job's own).
 */
export async function orderCarriedChats(content: ContentStore, uid: string, items: readonly ManifestItem[], carried: ReadonlySet<ManifestItem>): Promise<ManifestItem[]> {
  const conversations = new Map<string, { fresh: Keyed[]; carried: Keyed[] }>();
  for (const item of items) {
    if (item.type !== 'chats' || item.blob === null || item.conversationId === undefined || item.at === undefined) continue;
    const entry = conversations.get(item.conversationId) ?? { fresh: [], carried: [] };
    (carried.has(item) ? entry.carried : entry.fresh).push({ item, key: null });
    conversations.set(item.conversationId, entry);
  }
  const mixed = [...conversations].filter(([, c]) => c.fresh.length > 0 && c.carried.length > 0);
  if (mixed.length === 0) return [...items];

  const packs = new PackCache(content, uid);
  const keyOf = async (k: Keyed): Promise<Key> => {
    k.key ??= { sentAt: timeIsNotSent(k.item) ? await packs.sentAt(k.item) : (k.item.at as string), id: k.item.sourceId };
    return k.key;
  };
  const runs = new Map<string, ManifestItem[]>();
  for (const [conversationId, { fresh, carried: old }] of mixed) {
    for (const k of fresh) await keyOf(k);
    fresh.sort((a, b) => compareKeys(known(a), known(b)));
    runs.set(conversationId, await merge(old, fresh, keyOf));
  }

  const out: ManifestItem[] = [];
  const placed = new Set<string>();
  for (const item of items) {
    const run = item.type === 'chats' && item.blob !== null && item.conversationId !== undefined ? runs.get(item.conversationId) : undefined;
    if (!run || item.at === undefined) {
      out.push(item);
      continue;
    }
    // The run goes where the conversation's first new item was; its other items are in the run.
    if (carried.has(item) || placed.has(item.conversationId as string)) continue;
    placed.add(item.conversationId as string);
    for (const member of run) out.push(member);
  }
  return out;
}

/** Merges sorted new items into the carried run (sorted if its parent kept this rule: checked). */
async function merge(old: Keyed[], fresh: Keyed[], keyOf: (k: Keyed) => Promise<Key>): Promise<ManifestItem[]> {
  // A carried `at` that goes back in time among unedited messages: the parent is not in order.
  let last: string | null = null;
  let sorted = true;
  for (const k of old) {
    if (timeIsNotSent(k.item)) continue;
    if (last !== null && compareUtcIso(k.item.at as string, last) < 0) sorted = false;
    last = k.item.at as string;
  }
  if (!sorted) {
    const all = [...old, ...fresh];
    for (const k of all) await keyOf(k);
    // A stable sort: equal keys (none in a valid snapshot) keep their order.
    return all.sort((a, b) => compareKeys(known(a), known(b))).map((k) => k.item);
  }
  const out: ManifestItem[] = [];
  let from = 0;
  for (const f of fresh) {
    const key = known(f);
    // The first carried item after the new one, searched among those not placed yet.
    let lo = from;
    let hi = old.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(await keyOf(old[mid] as Keyed), key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    for (; from < lo; from++) out.push((old[from] as Keyed).item);
    out.push(f.item);
  }
  for (; from < old.length; from++) out.push((old[from] as Keyed).item);
  return out;
}

/** The packs the merge reads, a few at a time (an edit's neighbours usually share its pack). */
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
