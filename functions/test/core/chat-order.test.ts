/**
 * `orderChats` (issue 17 item 6): each conversation's messages in (sentAt, id) order, whatever
 * runs they come in (carried from the parent, copied by a recipe, new); a conversation in order
 * costs no read, and an edit's pack is read only when a comparison needs its sentAt.
 */
import { ContentStore } from '../../src/core/content-store';
import type { ManifestItem } from '../../src/core/model';
import { orderChats } from '../../src/core/sources/chat-order';
import type { BlobStore } from '../../src/ports';
import { MemoryBlobStore } from '../fakes/memory-blob-store';

const UID = 'ola';
const time = (minute: number) => new Date(Date.UTC(2026, 0, 1) + minute * 60_000).toISOString();

/** A blob store that counts reads per key. */
function counting(inner: BlobStore): { blobs: BlobStore; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const blobs: BlobStore = {
    put: (key, body, options) => inner.put(key, body, options),
    get: (key, options) => {
      reads.set(key, (reads.get(key) ?? 0) + 1);
      return inner.get(key, options);
    },
    stat: (key, options) => inner.stat(key, options),
    exists: (key, options) => inner.exists(key, options),
    delete: (key, options) => inner.delete(key, options),
    list: (prefix, options) => inner.list(prefix, options),
  };
  return { blobs, reads };
}

/** Stores a conversation pack of `messages` ([id, sentAt minute, editedAt minute?]) and returns its items. */
async function pack(content: ContentStore, messages: Array<[string, number, number?]>): Promise<{ hash: string; items: ManifestItem[] }> {
  const lines = messages.map(([id, sent, edited]) => JSON.stringify({ id, conversationId: 'c', sentAt: time(sent), ...(edited !== undefined ? { editedAt: time(edited) } : {}) }));
  const { hash } = await content.put(UID, new TextEncoder().encode(`${lines.join('\n')}\n`));
  const items = messages.map(([id, sent, edited], part): ManifestItem => ({
    type: 'chats',
    sourceId: id,
    blob: hash,
    part,
    originalSize: 1,
    storedSize: 1,
    transforms: ['validated', ...(edited !== undefined ? ['edited'] : [])],
    conversationId: 'c',
    at: time(edited ?? sent),
  }));
  return { hash, items };
}

describe('orderChats', () => {
  it('merges new messages into the carried run by sentAt, reading no carried pack it does not need', async () => {
    const { blobs, reads } = counting(new MemoryBlobStore());
    const content = new ContentStore(blobs);
    const parent = await pack(content, [['p1', 1], ['p2', 2], ['p3', 3], ['p4', 4, 90], ['p5', 5], ['p7', 7], ['p8', 8], ['p9', 9], ['p10', 10]]);
    const job = await pack(content, [['p6', 6, 100], ['n1', 50]]);
    const other: ManifestItem = { type: 'deviceInfo', sourceId: 'deviceInfo', blob: null, originalSize: 0, storedSize: 0, transforms: [] };
    reads.clear();
    const ordered = await orderChats(content, UID, [...job.items, other, ...parent.items]);
    expect(ordered.map((i) => i.sourceId)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9', 'p10', 'n1', 'deviceInfo']);
    expect([...reads.keys()].some((k) => k.endsWith(parent.hash))).toBe(false);
    expect([...reads.entries()].filter(([k]) => k.endsWith(job.hash)).map(([, n]) => n)).toEqual([1]);
  });

  it('orders a recipe\'s new messages listed before the history it copies, and reads nothing for a conversation in order', async () => {
    const { blobs, reads } = counting(new MemoryBlobStore());
    const content = new ContentStore(blobs);
    const older = await pack(content, [['o1', 1], ['o2', 2], ['o3', 3]]);
    const newer = await pack(content, [['o4', 4], ['o5', 5]]);
    const fresh = await pack(content, [['n1', 10], ['n2', 11]]);
    reads.clear();
    const inOrder = [...older.items, ...newer.items, ...fresh.items];
    expect(await orderChats(content, UID, inOrder)).toEqual(inOrder);
    const recipe = [...fresh.items, ...older.items, ...newer.items];
    expect((await orderChats(content, UID, recipe)).map((i) => i.sourceId)).toEqual(['o1', 'o2', 'o3', 'o4', 'o5', 'n1', 'n2']);
    expect(reads.size).toBe(0);
  });

  it('sorts a conversation whose carried run is out of order (a parent written before the rule)', async () => {
    const content = new ContentStore(new MemoryBlobStore());
    const parent = await pack(content, [['p1', 1], ['p2', 2], ['p3', 3, 60], ['p5', 5]]);
    const job = await pack(content, [['n1', 40]]);
    const legacy = [parent.items[3], parent.items[0], parent.items[2], parent.items[1]] as ManifestItem[];
    const ordered = await orderChats(content, UID, [...job.items, ...legacy]);
    expect(ordered.map((i) => i.sourceId)).toEqual(['p1', 'p2', 'p3', 'p5', 'n1']);
  });

  it('leaves conversations that are only new or only carried as they are, and orders by `at` when a pack is gone', async () => {
    const content = new ContentStore(new MemoryBlobStore());
    const parent = await pack(content, [['p1', 1], ['p2', 2, 70]]);
    const job = await pack(content, [['n1', 3]]);
    const lonely: ManifestItem = { ...(job.items[0] as ManifestItem), sourceId: 'x1', conversationId: 'other' };
    const items = [lonely, ...job.items, ...parent.items];
    const ordered = await orderChats(content, UID, items);
    expect(ordered.map((i) => i.sourceId)).toEqual(['x1', 'p1', 'p2', 'n1']);
    // Without the parent's pack the edit's sentAt is unknown: its `at` (70) places it last, and nothing fails.
    const bare = new ContentStore(new MemoryBlobStore());
    const again = await orderChats(bare, UID, items);
    expect(again.map((i) => i.sourceId)).toEqual(['x1', 'p1', 'n1', 'p2']);
  });
});
