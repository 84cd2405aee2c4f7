/**
 * FirestoreChatSource over the recording fake: the query it sends (collection group,
 * array-contains, sentAt then path, startAfter the cursor, one extra document), paging through
 * every message exactly once, skipping same-named foreign collections, Timestamps in and out of
 * the cursor, and refusals. The real query (and its index) runs only against Firestore.
 */
import { Timestamp } from '@google-cloud/firestore';
import { CHAT_SOURCE_QUERIES } from '../../src/adapters/firestore-queries';
import { FirestoreChatSource, decodeChatCursor, encodeChatCursor, parseMessagesPath } from '../../src/adapters/firestore-chat-source';
import { isLifeboatError } from '../../src/core/errors';
import type { SourceMessage } from '../../src/ports';
import { FakeFirestore } from './fake-firestore';

function seed(db: FakeFirestore): void {
  const put = (path: string, data: Record<string, unknown>) => db.docs.set(path, data);
  // Two conversations of alice's, one of bob's alone; equal sentAt values tie-break by path.
  put('conversations/c1/messages/m1', { participants: ['alice', 'bob'], sentAt: 10, text: 'a' });
  put('conversations/c1/messages/m2', { participants: ['alice', 'bob'], sentAt: 30, text: 'b' });
  put('conversations/c2/messages/m1', { participants: ['alice', 'carol'], sentAt: 20, text: 'c' });
  put('conversations/c2/messages/m3', { participants: ['alice', 'carol'], sentAt: 30, text: 'd' });
  put('conversations/c3/messages/m1', { participants: ['bob'], sentAt: 15, text: 'not alice' });
  // Same collection id elsewhere: not the app's chats.
  put('support/t1/messages/x1', { participants: ['alice'], sentAt: 12, text: 'ticket' });
  // A conversation document itself is not a message.
  put('conversations/c1', { participants: ['alice', 'bob'] });
}

async function readAll(source: FirestoreChatSource, uid: string, limit: number): Promise<{ pages: SourceMessage[][] }> {
  const pages: SourceMessage[][] = [];
  let after: string | undefined;
  for (let i = 0; i < 50; i++) {
    const page = await source.listMessages(uid, { limit, ...(after === undefined ? {} : { after }) });
    pages.push(page.messages);
    if (!page.nextCursor) return { pages };
    after = page.nextCursor;
  }
  throw new Error('did not end');
}

describe('FirestoreChatSource', () => {
  it('sends one collection-group query: participants array-contains uid, sentAt then path, one extra', async () => {
    const db = new FakeFirestore();
    seed(db);
    await new FirestoreChatSource(db.asFirestore()).listMessages('alice', { limit: 2 });
    expect(db.queries[0]).toEqual(
      {
        collection: 'messages',
        group: true,
        filters: [{ field: 'participants', op: 'array-contains', value: 'alice' }],
        orders: [{ field: 'sentAt', direction: 'asc' }, { field: '__name__', direction: 'asc' }],
        limit: 3,
      },
    );
    // The foreign `support/t1/messages/x1` took the extra place in that answer, so a second query
    // asks whether a message follows.
    expect(db.queries).toHaveLength(2);
    expect(db.queries[1]).toMatchObject({ startAfter: [20, 'conversations/c2/messages/m1'], limit: 1 });
  });

  it.each([1, 2, 3, 4, 10])('pages through every message of the user once, in (sentAt, path) order, with limit %i', async (limit) => {
    const db = new FakeFirestore();
    seed(db);
    const { pages } = await readAll(new FirestoreChatSource(db.asFirestore()), 'alice', limit);
    const all = pages.flat();
    expect(all.map((m) => `${m['conversationId']}/${m['id']}`)).toEqual(['c1/m1', 'c2/m1', 'c1/m2', 'c2/m3']);
    expect(all[0]).toEqual({ participants: ['alice', 'bob'], sentAt: 10, text: 'a', id: 'm1', conversationId: 'c1' });
    for (const page of pages.slice(0, -1)) expect(page).toHaveLength(limit);
    expect(pages.at(-1)!.length).toBeGreaterThan(0);
  });

  it('reads the same page again from the same cursor (a page task delivered twice)', async () => {
    const db = new FakeFirestore();
    seed(db);
    const source = new FirestoreChatSource(db.asFirestore());
    const first = await source.listMessages('alice', { limit: 1 });
    const sent = db.queries.length;
    const again = await source.listMessages('alice', { limit: 2, after: first.nextCursor! });
    const twice = await source.listMessages('alice', { limit: 2, after: first.nextCursor! });
    expect(twice).toEqual(again);
    expect(again.messages.map((m) => m['id'])).toEqual(['m1', 'm2']);
    expect(db.queries[sent]!.startAfter).toEqual([10, 'conversations/c1/messages/m1']);
  });

  it('keeps Timestamps in the cursor as Timestamps and returns them as epoch milliseconds', async () => {
    const db = new FakeFirestore();
    db.docs.set('chats/a/msgs/1', { members: ['u'], sentAt: new Timestamp(100, 5_000_000) });
    db.docs.set('chats/a/msgs/2', { members: ['u'], sentAt: new Timestamp(200, 0) });
    const source = new FirestoreChatSource(db.asFirestore(), { messagesPath: 'chats/{conversationId}/msgs', participantsField: 'members' });
    const first = await source.listMessages('u', { limit: 1 });
    expect(first.messages).toEqual([{ members: ['u'], sentAt: 100_005, id: '1', conversationId: 'a' }]);
    const [sentAt, path] = decodeChatCursor(first.nextCursor!);
    expect(sentAt).toBeInstanceOf(Timestamp);
    expect((sentAt as Timestamp).isEqual(new Timestamp(100, 5_000_000))).toBe(true);
    expect(path).toBe('chats/a/msgs/1');
    const second = await source.listMessages('u', { limit: 1, after: first.nextCursor! });
    expect(second).toEqual({ messages: [{ members: ['u'], sentAt: 200_000, id: '2', conversationId: 'a' }] });
  });

  it('skips a run of same-named foreign messages longer than a page', async () => {
    const db = new FakeFirestore();
    for (let i = 0; i < 5; i++) db.docs.set(`support/t/messages/x${i}`, { participants: ['u'], sentAt: i });
    db.docs.set('conversations/c/messages/m', { participants: ['u'], sentAt: 9 });
    const { pages } = await readAll(new FirestoreChatSource(db.asFirestore()), 'u', 2);
    expect(pages.flat().map((m) => m['id'])).toEqual(['m']);
  });

  it('refuses a bad limit, a foreign cursor, a bad path or field', async () => {
    const db = new FakeFirestore();
    const source = new FirestoreChatSource(db.asFirestore());
    await expect(source.listMessages('u', { limit: 0 })).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(source.listMessages('u', { limit: 1001 })).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(source.listMessages('u', { limit: 1, after: Buffer.from('["c1","m1"]').toString('base64url') })).rejects.toMatchObject({ code: 'invalid-argument', retryable: false });
    expect(() => parseMessagesPath('conversations/messages')).toThrow(/collection\/\{conversationId\}\/subcollection/);
    expect(() => new FirestoreChatSource(db.asFirestore(), { participantsField: 'a.b' })).toThrow(/plain field name/);
  });

  it('maps SDK errors to coded errors', async () => {
    const db = new FakeFirestore();
    const failing = { collectionGroup: () => { throw Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }); } };
    const source = new FirestoreChatSource(failing as unknown as ReturnType<FakeFirestore['asFirestore']>);
    const err = await source.listMessages('u', { limit: 1 }).catch((e: unknown) => e);
    expect(isLifeboatError(err) && err.code).toBe('unavailable');
    expect(db.queries).toEqual([]);
  });

  it('round-trips each cursor value type', () => {
    for (const value of [0, 12.5, 'x', new Timestamp(1, 2), null]) {
      const [back, path] = decodeChatCursor(encodeChatCursor(value, 'a/b/c/d'));
      expect(path).toBe('a/b/c/d');
      expect(value instanceof Timestamp ? (back as Timestamp).isEqual(value) : back).toEqual(value instanceof Timestamp ? true : value);
    }
  });
});

describe('CHAT_SOURCE_QUERIES', () => {
  it('is the index of the query the default source runs', async () => {
    const db = new FakeFirestore();
    await new FirestoreChatSource(db.asFirestore()).listMessages('u', { limit: 1 });
    const [query] = db.queries;
    const [index] = CHAT_SOURCE_QUERIES;
    expect(CHAT_SOURCE_QUERIES).toHaveLength(1);
    expect([index!.collectionGroup, index!.queryScope]).toEqual([query!.collection, query!.group ? 'COLLECTION_GROUP' : 'COLLECTION']);
    expect(index!.fields).toEqual([
      ...query!.filters.map((f) => ({ fieldPath: f.field, arrayConfig: f.op === 'array-contains' ? 'CONTAINS' : undefined })),
      ...query!.orders.filter((o) => o.field !== '__name__').map((o) => ({ fieldPath: o.field, order: o.direction === 'asc' ? 'ASCENDING' : 'DESCENDING' })),
    ].map((f) => JSON.parse(JSON.stringify(f)) as unknown));
  });
});
