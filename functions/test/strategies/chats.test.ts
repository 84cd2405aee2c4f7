import sharp from 'sharp';
import { ContentStore } from '../../src/core/content-store';
import { lifeboatError } from '../../src/core/errors';
import { sha256Hex } from '../../src/core/hash';
import type { MediaFetcher } from '../../src/ports';
import { HttpsMediaFetcher } from '../../src/strategies/media-fetch';
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
  it('is registered under chats with strategy key v2 (v2:i when incremental)', () => {
    expect(STRATEGIES.chats).toBe(chatsStrategy);
    expect(chatsStrategy.strategyKey(options)).toBe('v2');
    expect(chatsStrategy.strategyKey(BackupOptions.parse({ incrementalOnly: true }))).toBe('v2:i');
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
    const all = await chatsStrategy.processChunk(bytes, ctx);
    // Media references come last, one item each; without a fetcher they are recorded, not fetched.
    expect(all.slice(7)).toEqual([{
      type: 'media', sourceId: 'chat:conv-a:m2:imageUrl', blob: null, originalSize: 0, storedSize: 0, transforms: [],
      skipReason: 'imageUrl not fetched: no media fetcher configured',
    }]);
    const items = all.slice(0, 7);

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
      expect(item.warning).toBeUndefined();
    }
    // Each item names its conversation, its time and its record's digest (for watermarks and diffs).
    expect(items[1]).toMatchObject({ conversationId: 'conv-a', at: '2024-03-01T10:00:00.000Z', digest: sha256Hex(enc(convA[2] ?? '')) });
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
    expect(items.map((i) => i.sourceId)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'line:8', 'line:9', 'ok', 'chat:c:ok:fileUrl']);
    expect(reasons[0]).toMatch(/^line 1: .*must be a URL.*imageUrl/);
    expect(reasons[1]).toMatch(/^line 2: .*conversationId/);
    for (const i of [2, 3, 4, 5]) expect(reasons[i]).toMatch(new RegExp(`^line ${i + 1}: .*ISO 8601.*sentAt`));
    expect(reasons[6]).toMatch(/^line 7: .*text/);
    expect(reasons[7]).toMatch(/^line 8: .*expected object/);
    expect(reasons[8]).toMatch(/^line 9: not JSON/);
    expect(items[9]).toMatchObject({ blob: expect.any(String), part: 0 });
    expect(items[10]).toMatchObject({ type: 'media', sourceId: 'chat:c:ok:fileUrl', blob: null, skipReason: 'fileUrl not fetched: no media fetcher configured' });
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

describe('chats strategy: incrementalOnly and referenced media', () => {
  const incremental = BackupOptions.parse({ incrementalOnly: true });

  it('stores only messages new, edited or deleted since their conversation\'s watermark', async () => {
    const { content } = setup();
    const watermarks = new Map([['c1', '2024-03-01T10:00:00.000Z'], ['c2', '2024-03-05T00:00:00.000Z']]);
    const ctx = { uid: 'alice', jobId: 'job-00002', options: incremental, content, chatWatermarks: async () => watermarks };
    const items = await chatsStrategy.processChunk(enc(ndjson([
      msg('old', 'c1', '2024-03-01T09:00:00Z'),
      msg('at', 'c1', '2024-03-01T10:00:00Z'),
      msg('new', 'c1', '2024-03-01T10:00:01Z'),
      msg('edited', 'c1', '2024-02-01T00:00:00Z', { editedAt: '2024-03-02T00:00:00Z', text: 'fixed typo' }),
      msg('edited-before', 'c1', '2024-02-01T00:00:00Z', { editedAt: '2024-02-02T00:00:00Z' }),
      msg('gone', 'c2', '2024-03-01T00:00:00Z', { deleted: true, text: '' }),
      msg('first', 'c3', '2020-01-01T00:00:00Z'),
    ])), ctx);
    expect(items.map((i) => [i.sourceId, i.transforms.at(-1), i.at])).toEqual([
      ['new', 'grouped-by-conversation', '2024-03-01T10:00:01.000Z'],
      ['edited', 'edited', '2024-03-02T00:00:00.000Z'],
      ['gone', 'tombstone', '2024-03-01T00:00:00.000Z'],
      ['first', 'grouped-by-conversation', '2020-01-01T00:00:00.000Z'], // a conversation the parent never had
    ]);
    // Without incrementalOnly the same chunk stores everything, watermarks or not.
    const full = await chatsStrategy.processChunk(enc(ndjson([msg('old', 'c1', '2024-03-01T09:00:00Z')])), { ...ctx, options });
    expect(full.map((i) => i.sourceId)).toEqual(['old']);
  });

  it('fetches referenced media through the fetcher and the media pipeline; failures are skipped items', async () => {
    const { content } = setup();
    const px = Buffer.alloc(256 * 192 * 3);
    for (let i = 0; i < px.length; i++) px[i] = (i * 7 + (i >> 9) * 13) % 256; // texture, so quality shows in size
    const jpeg = await sharp(px, { raw: { width: 256, height: 192, channels: 3 } }).jpeg({ quality: 100 }).toBuffer();
    const own = await content.put('alice', enc('voice note bytes'), { compress: false });
    const asked: string[] = [];
    const fetcher: MediaFetcher = {
      async fetch(url, { maxBytes }) {
        asked.push(url);
        if (url.endsWith('/photo.jpg')) return { bytes: new Uint8Array(jpeg), contentType: 'image/jpeg', finalUrl: url };
        if (url.endsWith('/huge.mov')) throw lifeboatError('resource-exhausted', `larger than the ${maxBytes}-byte cap`, { retryable: false });
        throw lifeboatError('not-found', 'HTTP 404', { retryable: false });
      },
    };
    const ctx = { uid: 'alice', jobId: 'job-00003', options, content, fetchMedia: fetcher };
    const items = await chatsStrategy.processChunk(enc(ndjson([
      msg('m1', 'c', 1, { imageUrl: 'https://media.example.com/photo.jpg' }),
      msg('m2', 'c', 2, { imageUrl: 'https://media.example.com/photo.jpg', videoUrl: 'https://media.example.com/huge.mov' }),
      msg('m3', 'c', 3, { audioUrl: `lifeboat://blobs/${own.hash}`, fileUrl: 'https://media.example.com/missing.pdf' }),
      msg('m4', 'c', 4, { fileUrl: `lifeboat://blobs/${'0'.repeat(64)}` }),
    ])), ctx);
    const media = items.filter((i) => i.type === 'media');
    expect(media.map((i) => [i.sourceId, i.skipReason ?? i.transforms.join(', ')])).toEqual([
      ['chat:c:m1:imageUrl', 'fetched, jpeg q75, metadata kept'],
      ['chat:c:m2:imageUrl', 'fetched, jpeg q75, metadata kept'],
      ['chat:c:m2:videoUrl', `could not fetch videoUrl: larger than the ${500 * 1024 * 1024}-byte cap`],
      ['chat:c:m3:audioUrl', 'referenced blob'],
      ['chat:c:m3:fileUrl', 'could not fetch fileUrl: HTTP 404'],
      ['chat:c:m4:fileUrl', expect.stringMatching(/^could not fetch fileUrl: blob 0{64} is missing/)],
    ]);
    expect(asked.filter((u) => u.endsWith('/photo.jpg'))).toHaveLength(1); // one fetch per URL
    expect(media[0]?.blob).toBe(media[1]?.blob);
    expect(media[3]?.blob).toBe(own.hash);
    const stored = await content.get('alice', media[0]?.blob ?? '');
    expect(stored.byteLength).toBeLessThan(jpeg.byteLength);
    expect(items.filter((i) => i.type === 'chats').every((i) => i.skipReason === undefined)).toBe(true);
  });

  it('with the real fetcher, a message cannot aim the server at a private address', async () => {
    const { content } = setup();
    const fetcher = new HttpsMediaFetcher({ policy: { allowedHosts: ['media.example.com'] }, resolve: async () => [{ address: '10.0.0.1', family: 4 }] });
    const items = await chatsStrategy.processChunk(enc(ndjson([
      msg('m1', 'c', 1, { imageUrl: 'https://169.254.169.254/latest/meta-data/' }),
      msg('m2', 'c', 2, { imageUrl: 'https://media.example.com/a.jpg' }),
      msg('m3', 'c', 3, { imageUrl: 'http://media.example.com/a.jpg' }),
    ])), { uid: 'alice', jobId: 'job-00004', options, content, fetchMedia: fetcher });
    expect(items.filter((i) => i.type === 'media').map((i) => i.skipReason)).toEqual([
      'could not fetch imageUrl: IP address hosts are not allowed (169.254.169.254)',
      'could not fetch imageUrl: host media.example.com resolves to a non-public address (10.0.0.1)',
      'could not fetch imageUrl: scheme http: is not allowed (HTTPS only)',
    ]);
  });
});
