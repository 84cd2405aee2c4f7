import { ContentStore } from '../../src/core/content-store';
import { BackupOptions, type ManifestItem } from '../../src/core/model';
import { contactsStrategy, deviceInfoStrategy, toE164 } from '../../src/strategies';
import { MapBlobStore } from '../fakes/map-blob-store';

const enc = (s: string) => new TextEncoder().encode(s);
const options = BackupOptions.parse({});

function setup() {
  const blobs = new MapBlobStore();
  const content = new ContentStore(blobs);
  return { blobs, content, ctx: { uid: 'alice', jobId: 'job-00001', options, content } };
}

async function pack(content: ContentStore, item: ManifestItem): Promise<unknown> {
  const lines = new TextDecoder().decode(await content.get('alice', item.blob ?? '')).trimEnd().split('\n');
  return JSON.parse(lines[item.part ?? 0] ?? 'null');
}

describe('contacts strategy', () => {
  it('normalizes valid contacts into one pack and points each item at its line', async () => {
    const { content, ctx, blobs } = setup();
    const ndjson =
      JSON.stringify({ id: 'c1', name: { given: ' Ada ', family: 'Lovelace' }, emails: [{ address: 'Ada@Example.COM' }], phones: [{ number: '+44 (0)20 7946-0018' }, { number: '0044 20 7946 0018' }, { number: '555-0100' }] }) + '\n' +
      JSON.stringify({ id: 'c2', custom: { keep: true } }) + '\n';
    const items = await contactsStrategy.processChunk(enc(ndjson), ctx);
    expect(items.map((i) => [i.sourceId, i.part, i.skipReason])).toEqual([['c1', 0, undefined], ['c2', 1, undefined]]);
    expect(items[0]?.blob).toBe(items[1]?.blob);
    expect([...blobs.objects.keys()]).toHaveLength(1);
    const c1 = (await pack(content, items[0] as ManifestItem)) as Record<string, any>;
    expect(c1['name']).toEqual({ given: 'Ada', family: 'Lovelace' });
    expect(c1['emails']).toEqual([{ address: 'ada@example.com' }]);
    expect(c1['phones'].map((p: { e164?: string }) => p.e164)).toEqual(['+442079460018', '+442079460018', undefined]);
    expect(await pack(content, items[1] as ManifestItem)).toEqual({ id: 'c2', custom: { keep: true } });
  });

  it('records malformed lines with their number and reason and stores the rest', async () => {
    const { ctx } = setup();
    const ndjson = [
      JSON.stringify({ id: 'ok1' }),
      '{"id": "trunc',
      JSON.stringify({ id: '' }),
      JSON.stringify({ name: 'no id' }),
      JSON.stringify({ id: 'ok2', emails: [{ address: 5 }] }),
      JSON.stringify({ id: 'ok3' }),
    ].join('\n');
    const items = await contactsStrategy.processChunk(enc(ndjson), ctx);
    expect(items).toHaveLength(6);
    const skipped = items.filter((i) => i.skipReason);
    expect(skipped.map((i) => i.skipReason?.split(':')[0])).toEqual(['line 2', 'line 3', 'line 4', 'line 5']);
    expect(skipped[0]?.skipReason).toMatch(/not JSON/);
    expect(skipped[3]?.sourceId).toBe('ok2');
    expect(items.filter((i) => !i.skipReason).map((i) => [i.sourceId, i.part])).toEqual([['ok1', 0], ['ok3', 1]]);
  });

  it('skips a chunk of invalid UTF-8 with a reason', async () => {
    const { ctx, blobs } = setup();
    const items = await contactsStrategy.processChunk(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), ctx);
    expect(items).toEqual([expect.objectContaining({ blob: null, skipReason: 'chunk is not valid UTF-8' })]);
    expect(blobs.objects.size).toBe(0);
  });

  it('stores the same contacts once (content-addressed)', async () => {
    const { ctx, blobs } = setup();
    const ndjson = enc(JSON.stringify({ id: 'c1' }) + '\n');
    const a = await contactsStrategy.processChunk(ndjson, ctx);
    const b = await contactsStrategy.processChunk(ndjson, ctx);
    expect(a[0]?.blob).toBe(b[0]?.blob);
    expect(blobs.objects.size).toBe(1);
  });

  it('reads national numbers in the contact\'s own phoneRegion, else the job\'s; an unknown one is a warning', async () => {
    const blobs = new MapBlobStore();
    const content = new ContentStore(blobs);
    const ctx = { uid: 'alice', jobId: 'job-00001', options: BackupOptions.parse({ phoneRegion: 'GB' }), content };
    const ndjson = [
      { id: 'paris', phoneRegion: 'FR', phones: [{ number: '01 23 45 67 89' }, { number: '+44 20 7946 0018' }] },
      { id: 'lagos', phoneRegion: 'ng', phones: [{ number: '0802 123 4567' }] },
      { id: 'london', phones: [{ number: '020 7946 0018' }] },
      { id: 'nowhere', phoneRegion: 'XX', phones: [{ number: '020 7946 0018' }] },
      { id: 'odd', phoneRegion: 44, phones: [{ number: '01 23 45 67 89' }] },
    ].map((c) => JSON.stringify(c)).join('\n');
    const items = await contactsStrategy.processChunk(enc(ndjson), ctx);
    expect(items.every((i) => !i.skipReason)).toBe(true);
    const e164s = await Promise.all(items.map(async (i) => ((await pack(content, i)) as { phones: Array<{ e164?: string }> }).phones.map((p) => p.e164)));
    // 'odd' names no region: its number is read in GB, where those digits are a possible number.
    expect(e164s).toEqual([['+33123456789', '+442079460018'], ['+2348021234567'], ['+442079460018'], ['+442079460018'], ['+44123456789']]);
    expect(items.map((i) => i.warning)).toEqual([
      undefined, undefined, undefined,
      'phoneRegion "XX" is not a known region; national numbers read in GB',
      'phoneRegion (number) is not a known region; national numbers read in GB',
    ]);
    // The record keeps what the device sent, the region included.
    expect(await pack(content, items[3] as ManifestItem)).toMatchObject({ id: 'nowhere', phoneRegion: 'XX' });
  });

  it('keys chunks by the normalizer version and the job\'s region', () => {
    expect(contactsStrategy.strategyKey(BackupOptions.parse({}))).toBe('v3');
    expect(contactsStrategy.strategyKey(BackupOptions.parse({ phoneRegion: 'BR' }))).toBe('v3:rBR');
  });

  it('E.164 only where the number carries its country code', () => {
    expect(toE164('+1 (415) 555-0100')).toBe('+14155550100');
    expect(toE164('0033 1 23 45 67 89')).toBe('+33123456789');
    expect(toE164('(415) 555-0100')).toBeNull();
    expect(toE164('+0 123')).toBeNull();
  });
});

describe('deviceInfo strategy', () => {
  const valid = { model: 'Pixel 9', os: 'android', osVersion: '15', appVersion: '2.1.0', locale: 'en-GB', freeStorageBytes: 1024, extra: 'kept' };

  it('stores validated device info as canonical JSON', async () => {
    const { ctx, content } = setup();
    const [item] = await deviceInfoStrategy.processChunk(enc(JSON.stringify(valid)), ctx);
    expect(item).toMatchObject({ type: 'deviceInfo', sourceId: 'deviceInfo' });
    expect(item?.skipReason).toBeUndefined();
    const stored = JSON.parse(new TextDecoder().decode(await content.get('alice', item?.blob ?? '')));
    expect(stored).toEqual(valid);
    // Key order does not matter: the same info in another order is the same blob.
    const reordered = Object.fromEntries(Object.entries(valid).reverse());
    const [again] = await deviceInfoStrategy.processChunk(enc(JSON.stringify(reordered)), ctx);
    expect(again?.blob).toBe(item?.blob);
  });

  it.each([
    ['not JSON', '{"model":', /not JSON/],
    ['missing fields', '{"model":"x"}', /invalid/],
    ['wrong types', JSON.stringify({ ...valid, freeStorageBytes: -1 }), /freeStorageBytes/],
    ['empty', '', /not JSON/],
  ])('skips %s with a reason', async (_name, input, reason) => {
    const { ctx, blobs } = setup();
    const [item] = await deviceInfoStrategy.processChunk(enc(input), ctx);
    expect(item?.blob).toBeNull();
    expect(item?.skipReason).toMatch(reason);
    expect(blobs.objects.size).toBe(0);
  });
});
