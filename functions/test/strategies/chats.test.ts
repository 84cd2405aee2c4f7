import { ContentStore } from '../../src/core/content-store';
import { BackupOptions, type ManifestItem } from '../../src/core/model';
import { canonicalJson, chatsStrategy, compareUtcIso, STRATEGIES, toUtcIso } from '../../src/strategies';
import { MapBlobStore } from '../fakes/map-blob-store';

const enc = (s: string) => new TextEncoder().encode(s);
const ndjson = (lines: unknown[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
const options = BackupOptions.parse({});

function setup() {
  const blobs = new MapBlobStore();
  const content = new ContentStore(blobs);
  return { blobs, content, ctx: { uid: 'alice', jobId: 'job-00001', options, content } };
}

async function packLines(content: ContentStore, hash: string | null): Promise<string[]> {
  const text = new TextDecoder().decode(await content.get('alice', hash ?? ''));
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

async function storedMessage(content: ContentStore, item: ManifestItem): Promise<Record<string, unknown>> {
  const lines = await packLines(content, item.blob);
  return JSON.parse(lines[item.part ?? -1] ?? 'null') as Record<string, unknown>;
}

const msg = (id: string, conversationId: string, sentAt: string | number, extra: Record<string, unknown> = {}) => ({
  id, conversationId, senderId: 'u1', sentAt, text: `text of ${id}`, ...extra,
});

describe('chats strategy', () => {
  it('is registered under chats with strategy key v1', () => {
    expect(STRATEGIES.chats).toBe(chatsStrategy);
    expect(chatsStrategy.strategyKey(options)).toBe('v1');
  });

  it('packs each conversation sorted by (sentAt, id), normalizing timestamps and keeping unknown fields', async () => {
    const { content, ctx, blobs } = setup();
    const input = [
      msg('m3', 'conv-b', '2024-03-01T10:00:00Z'),
      msg('m1', 'conv-a', 1_709_287_200_000, { reactions: [{ by: 'u2', emoji: '👍' }], app: { pinned: true } }),
      msg('m2', 'conv-a', '2024-03-01T11:00:00+02:00', { imageUrl: 'https://cdn.example.com/a.jpg' }),
      msg('m0', 'conv-a', '2024-03-01T09:00:00.000Z'),
      msg('m5', 'conv-c', '2024-03-01T10:00:00.123456Z'),
      msg('m4', 'conv-b', '2024-03-01T10:00:00.000Z'),
      msg('m6', 'conv-c', '2024-03-01T10:00:00.1234Z'),
    ];
    const bytes = enc(ndjson(input));
    const items = await chatsStrategy.processChunk(bytes, ctx);

    // Items follow the chunk's lines; each points at its line in its conversation's pack.
    expect(items.map((i) => [i.sourceId, i.part, i.skipReason])).toEqual([
      ['m3', 0, undefined], ['m1', 2, undefined], ['m2', 1, undefined], ['m0', 0, undefined],
      ['m5', 1, undefined], ['m4', 1, undefined], ['m6', 0, undefined],
    ]);
    const blobOf = (id: string) => items.find((i) => i.sourceId === id)?.blob;
    expect(new Set(items.map((i) => i.blob)).size).toBe(3);
    expect(blobOf('m0')).toBe(blobOf('m1'));
    expect(blobOf('m3')).toBe(blobOf('m4'));
    expect(blobOf('m5')).toBe(blobOf('m6'));
    expect(blobs.objects.size).toBe(3);

    // conv-a: m2 at 11:00+02:00 is 09:00Z like m0, so the id breaks the tie; m1 (epoch ms) is 10:00Z.
    expect((await packLines(content, blobOf('m0') ?? null)).map((l) => JSON.parse(l).id)).toEqual(['m0', 'm2', 'm1']);
    const m1 = await storedMessage(content, items[1] as ManifestItem);
    expect(m1).toEqual({ ...input[1], sentAt: '2024-03-01T10:00:00.000Z' });
    const m2 = await storedMessage(content, items[2] as ManifestItem);
    expect(m2['sentAt']).toBe('2024-03-01T09:00:00.000Z');
    // Sub-millisecond digits are kept and sort numerically: .1234 before .123456.
    const m5 = await storedMessage(content, items[4] as ManifestItem);
    expect(m5['sentAt']).toBe('2024-03-01T10:00:00.123456Z');
    expect((await storedMessage(content, items[6] as ManifestItem))['sentAt']).toBe('2024-03-01T10:00:00.1234Z');

    // Each pack line is the canonical JSON of the normalized message.
    const convA = await packLines(content, blobOf('m0') ?? null);
    expect(convA[2]).toBe(canonicalJson({ ...input[1], sentAt: '2024-03-01T10:00:00.000Z' }));

    const lineSizes = ndjson(input).split('\n').slice(0, -1).map((l) => enc(l).byteLength + 1);
    expect(items.map((i) => i.originalSize)).toEqual(lineSizes);
    for (const item of items) {
      expect(item.transforms).toEqual(['validated', 'grouped-by-conversation']);
      expect(item.warning).toBe(item.sourceId === 'm2' ? 'media reference not fetched yet' : undefined);
    }
    // The shares of a pack add up to its stored size (up to rounding).
    for (const hash of new Set(items.map((i) => i.blob as string))) {
      const share = items.filter((i) => i.blob === hash).reduce((n, i) => n + i.storedSize, 0);
      const stored = blobs.objects.get([...blobs.objects.keys()].find((k) => k.endsWith(hash)) ?? '')?.byteLength ?? 0;
      expect(Math.abs(share - stored)).toBeLessThanOrEqual(2);
      expect(items.find((i) => i.blob === hash)?.blobSize).toBe(enc((await packLines(content, hash)).join('\n') + '\n').byteLength);
    }
  });

  it('stores the same conversation once, whatever the line order (content-addressed packs)', async () => {
    const { ctx, blobs } = setup();
    const input = [msg('a', 'c', 1000), msg('b', 'c', 2000), msg('c', 'c', 2000)];
    const first = await chatsStrategy.processChunk(enc(ndjson(input)), ctx);
    const second = await chatsStrategy.processChunk(enc(ndjson([...input].reverse())), ctx);
    expect(second[0]?.blob).toBe(first[0]?.blob);
    expect(blobs.objects.size).toBe(1);
  });

  it('records a truncated last line and stores the rest', async () => {
    const { ctx, content } = setup();
    const full = ndjson([msg('m1', 'c', 1), msg('m2', 'c', 2), msg('m3', 'c', 3)]);
    const cut = full.slice(0, full.length - 20);
    const items = await chatsStrategy.processChunk(enc(cut), ctx);
    expect(items).toHaveLength(3);
    expect(items[2]).toMatchObject({ sourceId: 'line:3', blob: null, storedSize: 0, transforms: [] });
    expect(items[2]?.skipReason).toMatch(/^line 3: not JSON \(/);
    expect(items[2]?.originalSize).toBe(enc(cut.split('\n')[2] ?? '').byteLength);
    expect(items.slice(0, 2).map((i) => [i.sourceId, i.part])).toEqual([['m1', 0], ['m2', 1]]);
    expect(await packLines(content, items[0]?.blob ?? null)).toHaveLength(2);
  });

  it('records lines of invalid UTF-8 and keeps the valid lines of the chunk', async () => {
    const { ctx, blobs } = setup();
    const good = enc(ndjson([msg('m1', 'c', 1)]));
    const bad = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]);
    const tail = enc(ndjson([msg('m2', 'c', 2)]));
    const chunk = new Uint8Array([...good, ...bad, ...tail]);
    const items = await chatsStrategy.processChunk(chunk, ctx);
    expect(items.map((i) => [i.sourceId, i.skipReason])).toEqual([['m1', undefined], ['line:2', 'line 2: not valid UTF-8'], ['m2', undefined]]);
    expect(items[1]?.originalSize).toBe(bad.byteLength);
    expect(blobs.objects.size).toBe(1);

    const garbage = await chatsStrategy.processChunk(new Uint8Array([0xc3, 0x28, 0xa0, 0xa1]), setup().ctx);
    expect(garbage).toEqual([expect.objectContaining({ blob: null, skipReason: 'line 1: not valid UTF-8', originalSize: 4 })]);
  });

  it('records schema errors (bad URL, missing conversationId, bad sentAt) with line, id and field', async () => {
    const { ctx } = setup();
    const { conversationId: _dropped, ...noConversation } = msg('m2', 'c', 2);
    const items = await chatsStrategy.processChunk(enc(ndjson([
      msg('m1', 'c', 1, { imageUrl: 'not a url' }),
      noConversation,
      msg('m3', 'c', 'not a date'),
      msg('m4', 'c', 1.5),
      msg('m5', 'c', '2024-02-30T10:00:00Z'),
      msg('m6', 'c', '0000-01-01T00:30:00+01:00'),
      { ...msg('m7', 'c', 7), text: 'x'.repeat(100_001) },
      '[1, 2]',
      '',
      msg('ok', 'c', 9, { fileUrl: 'content://media/external/1' }),
    ])), ctx);
    const reasons = items.map((i) => i.skipReason);
    expect(items.map((i) => i.sourceId)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'line:8', 'line:9', 'ok']);
    expect(reasons[0]).toMatch(/^line 1: .*must be a URL.*imageUrl/);
    expect(reasons[1]).toMatch(/^line 2: .*conversationId/);
    for (const i of [2, 3, 4, 5]) expect(reasons[i]).toMatch(new RegExp(`^line ${i + 1}: .*ISO 8601.*sentAt`));
    expect(reasons[6]).toMatch(/^line 7: .*text/);
    expect(reasons[7]).toMatch(/^line 8: .*expected object/);
    expect(reasons[8]).toMatch(/^line 9: not JSON/);
    expect(items[9]).toMatchObject({ blob: expect.any(String), part: 0, warning: 'media reference not fetched yet' });
    expect(items.filter((i) => i.skipReason).every((i) => i.blob === null && i.storedSize === 0)).toBe(true);
  });

  it('keeps the latest edit of a repeated message id and records the others as duplicates', async () => {
    const { ctx, content } = setup();
    const items = await chatsStrategy.processChunk(enc(ndjson([
      msg('m1', 'c', 1, { text: 'original' }),
      msg('m1', 'c', 1, { text: 'second edit', editedAt: '2024-05-02T00:00:00Z' }),
      msg('m1', 'c', 1, { text: 'first edit', editedAt: 1_714_521_600_000 }),
      msg('m2', 'c', 2, { text: 'once' }),
      msg('m2', 'c', 2, { text: 'again' }),
      msg('m1', 'other', 1, { text: 'same id, other conversation' }),
    ])), ctx);
    expect(items.map((i) => [i.sourceId, i.skipReason])).toEqual([
      ['m1', 'line 1: duplicate message id'],
      ['m1', undefined],
      ['m1', 'line 3: duplicate message id'],
      ['m2', 'line 4: duplicate message id'],
      ['m2', undefined],
      ['m1', undefined],
    ]);
    expect(await storedMessage(content, items[1] as ManifestItem)).toMatchObject({ text: 'second edit', editedAt: '2024-05-02T00:00:00.000Z' });
    expect(await storedMessage(content, items[4] as ManifestItem)).toMatchObject({ text: 'again' });
    expect(await storedMessage(content, items[5] as ManifestItem)).toMatchObject({ conversationId: 'other' });
  });

  it('stores empty texts and deleted tombstones as they are', async () => {
    const { ctx, content } = setup();
    const items = await chatsStrategy.processChunk(enc(ndjson([
      msg('m1', 'c', 1, { text: '' }),
      msg('m2', 'c', 2, { text: '', deleted: true }),
    ])), ctx);
    expect(items.every((i) => i.skipReason === undefined && i.warning === undefined)).toBe(true);
    expect(await storedMessage(content, items[0] as ManifestItem)).toEqual({ ...msg('m1', 'c', '1970-01-01T00:00:00.001Z'), text: '' });
    expect(await storedMessage(content, items[1] as ManifestItem)).toEqual({ ...msg('m2', 'c', '1970-01-01T00:00:00.002Z'), text: '', deleted: true });
  });

  it('an empty chunk has no items and stores nothing', async () => {
    const { ctx, blobs } = setup();
    expect(await chatsStrategy.processChunk(new Uint8Array(), ctx)).toEqual([]);
    expect(blobs.objects.size).toBe(0);
  });
});

describe('toUtcIso', () => {
  it.each([
    [0, '1970-01-01T00:00:00.000Z'],
    [-1, '1969-12-31T23:59:59.999Z'],
    ['2024-01-01T00:30:00+01:00', '2023-12-31T23:30:00.000Z'],
    ['2024-01-01T23:30:00.5-05:30', '2024-01-02T05:00:00.500Z'],
    ['0099-06-01T00:00:00Z', '0099-06-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999999Z', '9999-12-31T23:59:59.999999Z'],
    ['0000-01-01T00:00:00Z', '0000-01-01T00:00:00.000Z'],
  ])('%s -> %s', (input, expected) => {
    expect(toUtcIso(input)).toBe(expected);
  });

  it.each([[1.5], [8.64e15], ['10000-01-01T00:00:00Z'], ['9999-12-31T23:30:00-01:00'], ['2024-01-01']])('refuses %s', (input) => {
    expect(toUtcIso(input)).toBeNull();
  });

  it('orders fractions of different lengths in time', () => {
    expect(compareUtcIso('2024-01-01T00:00:00.123Z', '2024-01-01T00:00:00.1225Z')).toBe(1);
    expect(compareUtcIso('2024-01-01T00:00:00.100Z', '2024-01-01T00:00:00.1Z')).toBe(0);
    expect(compareUtcIso('2023-12-31T23:59:59.999Z', '2024-01-01T00:00:00.000Z')).toBe(-1);
  });
});
