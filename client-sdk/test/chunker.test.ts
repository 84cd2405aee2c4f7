import { BOUNDARY_MODULUS, chatChunks, contactChunks, deviceInfoChunk, fnv1a32, type ChatRecord } from '../src/chunker';
import { sha256Hex } from '../src/sha256';
import { createHash } from 'node:crypto';

const contacts = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `c${String(i).padStart(5, '0')}`, name: `Person ${i}` }));

describe('chunker', () => {
  it('names chunks by the SHA-256 of their bytes (matches node:crypto)', async () => {
    const chunks = await contactChunks(contacts(200), 1 << 20);
    for (const c of chunks) {
      expect(c.id).toBe(createHash('sha256').update(c.bytes).digest('hex'));
      expect(c.size).toBe(c.bytes.byteLength);
    }
    expect(sha256Hex(new Uint8Array())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('is deterministic and independent of input order', async () => {
    const data = contacts(500);
    const a = await contactChunks(data, 1 << 20);
    const b = await contactChunks([...data].reverse(), 1 << 20);
    expect(b.map((c) => c.id)).toEqual(a.map((c) => c.id));
    expect(a.reduce((n, c) => n + c.items, 0)).toBe(500);
  });

  it('cuts after ids whose hash is 0 mod 32, so chunks average about 32 records', async () => {
    const chunks = await contactChunks(contacts(5000), 1 << 20);
    for (const chunk of chunks.slice(0, -1)) {
      const lines = new TextDecoder().decode(chunk.bytes).trimEnd().split('\n');
      const lastId = JSON.parse(lines[lines.length - 1] ?? '{}').id as string;
      expect(fnv1a32(lastId) % BOUNDARY_MODULUS).toBe(0);
    }
    expect(5000 / chunks.length).toBeGreaterThan(16);
    expect(5000 / chunks.length).toBeLessThan(64);
  });

  it('one changed contact changes one chunk; one added contact at most two', async () => {
    const data = contacts(3000);
    const before = new Set((await contactChunks(data, 1 << 20)).map((c) => c.id));
    const edited = data.map((c, i) => (i === 1234 ? { ...c, name: 'Changed' } : c));
    const afterEdit = (await contactChunks(edited, 1 << 20)).map((c) => c.id);
    expect(afterEdit.filter((id) => !before.has(id))).toHaveLength(1);
    const added = [...data, { id: 'c01234x', name: 'New' }];
    const afterAdd = (await contactChunks(added, 1 << 20)).map((c) => c.id);
    expect(afterAdd.filter((id) => !before.has(id)).length).toBeLessThanOrEqual(2);
  });

  it('respects maxChunkBytes (a single record larger than it is its own chunk)', async () => {
    const data = [...contacts(300), { id: 'big', note: 'x'.repeat(5000) }];
    const chunks = await contactChunks(data, 2048);
    for (const c of chunks) if (c.items > 1) expect(c.size).toBeLessThanOrEqual(2048);
    expect(chunks.some((c) => c.items === 1 && c.size > 5000)).toBe(true);
  });

  it('accepts async iterables and refuses records without a string id', async () => {
    async function* gen() { yield { id: 'a' }; yield { id: 'b' }; }
    expect((await contactChunks(gen(), 1 << 20)).reduce((n, c) => n + c.items, 0)).toBe(2);
    await expect(contactChunks([{ id: 'a' }, { name: 'x' } as unknown as { id: string }], 1 << 20)).rejects.toMatchObject({ code: 'backup/invalid-argument', message: 'contact #1 has no string id' });
  });

  it('device info is one chunk, from an object or a function', async () => {
    const info = { model: 'P', os: 'a', osVersion: '1', appVersion: '1', locale: 'en' };
    const a = await deviceInfoChunk(info);
    const b = await deviceInfoChunk(async () => info);
    expect(a.id).toBe(b.id);
    expect(a).toMatchObject({ type: 'deviceInfo', items: 1 });
  });
});

describe('chat chunker', () => {
  const messages = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      id: `m${String(i).padStart(5, '0')}`,
      conversationId: `conv-${i % 7}`,
      senderId: `u${i % 3}`,
      // Mixed forms on purpose: epoch ms for some messages, ISO strings for others.
      sentAt: i % 2 === 0 ? 1_700_000_000_000 + i * 1000 : new Date(1_700_000_000_000 + i * 1000).toISOString(),
      text: `message ${i}`,
    }));
  const lines = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trimEnd().split('\n').map((l) => JSON.parse(l) as ChatRecord);

  it('is deterministic and independent of input order', async () => {
    const data = messages(1000);
    const a = await chatChunks(data, 1 << 20);
    const b = await chatChunks([...data].reverse(), 1 << 20);
    expect(b.map((c) => c.id)).toEqual(a.map((c) => c.id));
    expect(a.every((c) => c.type === 'chats')).toBe(true);
    expect(a.reduce((n, c) => n + c.items, 0)).toBe(1000);
  });

  it('sorts by conversation, then sentAt (numbers by value before strings), then id, and cuts on the id hash', async () => {
    const chunks = await chatChunks([
      { id: 'b', conversationId: 'c2', sentAt: 5 },
      { id: 'z', conversationId: 'c1', sentAt: '2024-01-01T00:00:00Z' },
      { id: 'a', conversationId: 'c1', sentAt: 10 },
      { id: 'y', conversationId: 'c1', sentAt: 9 },
      { id: 'x', conversationId: 'c1', sentAt: '2024-01-01T00:00:00Z' },
    ], 1 << 20);
    const order = chunks.flatMap((c) => lines(c.bytes)).map((m) => m.id);
    expect(order).toEqual(['y', 'a', 'x', 'z', 'b']);

    const many = await chatChunks(messages(3000), 1 << 20);
    for (const chunk of many.slice(0, -1)) {
      const last = lines(chunk.bytes).at(-1);
      expect(fnv1a32(last?.id ?? '') % BOUNDARY_MODULUS).toBe(0);
    }
  });

  it('one edited message changes one chunk', async () => {
    const data = messages(3000);
    const before = new Set((await chatChunks(data, 1 << 20)).map((c) => c.id));
    const edited = data.map((m, i) => (i === 1234 ? { ...m, text: 'edited', editedAt: '2024-06-01T00:00:00Z' } : m));
    const after = (await chatChunks(edited, 1 << 20)).map((c) => c.id);
    expect(after.filter((id) => !before.has(id))).toHaveLength(1);
    expect(after).toHaveLength(before.size);
  });

  it('keeps copies of one message together even when its id ends a chunk', async () => {
    const boundaryId = Array.from({ length: 1000 }, (_, i) => `m${i}`).find((id) => fnv1a32(id) % BOUNDARY_MODULUS === 0) as string;
    const copies = [
      { id: boundaryId, conversationId: 'c', sentAt: 1, text: 'original' },
      { id: boundaryId, conversationId: 'c', sentAt: 1, text: 'edited', editedAt: 2 },
      { id: 'zz', conversationId: 'c', sentAt: 1 },
    ];
    const chunks = await chatChunks(copies, 1 << 20);
    expect(chunks.map((c) => c.items)).toEqual([2, 1]);
    expect((await chatChunks([...copies].reverse(), 1 << 20)).map((c) => c.id)).toEqual(chunks.map((c) => c.id));
  });

  it.each([
    [{ conversationId: 'c', sentAt: 1 }, 'chat message #1 has no string id'],
    [{ id: 'm', sentAt: 1 }, 'chat message #1 has no string conversationId'],
    [{ id: 'm', conversationId: 'c', sentAt: Number.NaN }, 'chat message #1 has no sentAt (a string or a finite number)'],
    [{ id: 'm', conversationId: 'c' }, 'chat message #1 has no sentAt (a string or a finite number)'],
  ])('refuses %j', async (bad, message) => {
    const source = [{ id: 'ok', conversationId: 'c', sentAt: 1 }, bad as unknown as ChatRecord];
    await expect(chatChunks(source, 1 << 20)).rejects.toMatchObject({ code: 'backup/invalid-argument', message });
  });
});
