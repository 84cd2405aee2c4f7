import { BOUNDARY_MODULUS, contactChunks, deviceInfoChunk, fnv1a32 } from '../src/chunker';
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
