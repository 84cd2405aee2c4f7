import sharp from 'sharp';
import { ContentStore } from '../../src/core/content-store';
import { sha256Hex } from '../../src/core/hash';
import { BackupOptions, type ManifestItem } from '../../src/core/model';
import { contactsStrategy } from '../../src/strategies';
import { looksLikeVCard, parseVCards, type ParsedVCard } from '../../src/strategies/vcard-parse';
import { MapBlobStore } from '../fakes/map-blob-store';

const crlf = (lines: string[]) => new TextEncoder().encode(lines.join('\r\n') + '\r\n');
const lf = (lines: string[]) => new TextEncoder().encode(lines.join('\n') + '\n');
const good = (card: ParsedVCard | undefined) => {
  if (!card?.ok) throw new Error(`card failed: ${card && !card.ok ? card.reason : 'missing'}`);
  return card;
};

/** Folds a base64 value the way exporters do: 75-octet lines, continuation lines indented. */
function fold(line: string, indent = ' '): string[] {
  const out = [line.slice(0, 75)];
  for (let i = 75; i < line.length; i += 74) out.push(indent + line.slice(i, i + 74));
  return out;
}

let jpeg: Buffer;
beforeAll(async () => {
  jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#c04040' } }).jpeg().toBuffer();
});

// An iPhone "Share Contact" export: vCard 3.0, CRLF, grouped properties with Apple labels,
// escaped text, a folded base64 photo.
const iosCard = () => crlf([
  'BEGIN:VCARD',
  'VERSION:3.0',
  'PRODID:-//Apple Inc.//iPhone OS 17.2//EN',
  'N:Lovelace;Ada;Augusta;Countess;',
  'FN:Ada Lovelace',
  'ORG:Analytical Engines Ltd;Research;',
  'TITLE:Programmer',
  'item1.TEL;type=pref:+44 20 7946 0018',
  'item1.X-ABLabel:_$!<Mobile>!$_',
  'item2.TEL:020 7946 0999',
  'item2.X-ABLabel:Lab',
  'EMAIL;type=INTERNET;type=HOME;type=pref:Ada@Example.COM',
  "item3.ADR;type=HOME;type=pref:;;12 St James\\, Square;London;;SW1Y 4JH;United Kingdom",
  'item3.X-ABADR:gb',
  'NOTE:Line one\\nLine two\\, with comma\\; semicolon \\\\ backslash and a long tail that the export',
  '  folds onto the next line',
  'BDAY;value=date:1815-12-10',
  ...fold(`PHOTO;ENCODING=b;TYPE=JPEG:${jpeg.toString('base64')}`),
  'UID:6F3E9A52-1C3B-4B1F-9D55-0A1B2C3D4E5F',
  'END:VCARD',
]);

// An Android contacts export: vCard 2.1, LF, quoted-printable UTF-8 with soft line breaks,
// bare type parameters, a BASE64 photo ended by a blank line, no UID.
const androidCard = () => lf([
  'BEGIN:VCARD',
  'VERSION:2.1',
  'N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=89cole;Ren=C3=A9;;;',
  'FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Ren=C3=A9 =C3=89cole',
  'TEL;CELL;PREF:07700 900123',
  'TEL;HOME:+33 1 23 45 67 89',
  'EMAIL;HOME:Rene@Example.FR',
  'NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Caf=C3=A9 au lait, a long note that Android =',
  'breaks with a soft line break',
  ...fold(`PHOTO;ENCODING=BASE64;JPEG:${jpeg.toString('base64')}`, '    '),
  '',
  'END:VCARD',
]);

describe('vCard input', () => {
  it('reads an iOS 3.0 export: groups and Apple labels, escapes, folded lines, a base64 photo', () => {
    const [card] = parseVCards(iosCard());
    const c = good(card);
    expect(c.contact).toEqual({
      id: '6F3E9A52-1C3B-4B1F-9D55-0A1B2C3D4E5F',
      name: { display: 'Ada Lovelace', family: 'Lovelace', given: 'Ada', middle: 'Augusta', prefix: 'Countess' },
      organization: 'Analytical Engines Ltd, Research',
      title: 'Programmer',
      phones: [{ label: 'mobile', number: '+44 20 7946 0018' }, { label: 'lab', number: '020 7946 0999' }],
      emails: [{ label: 'home', address: 'Ada@Example.COM' }],
      addresses: [{ label: 'home', street: '12 St James, Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'United Kingdom' }],
      note: 'Line one\nLine two, with comma; semicolon \\ backslash and a long tail that the export folds onto the next line',
      birthday: '1815-12-10',
    });
    expect(c.photo?.mimeType).toBe('image/jpeg');
    expect(Buffer.from(c.photo?.bytes ?? []).equals(jpeg)).toBe(true);
    expect(c.warnings).toEqual([]);
  });

  it('reads an Android 2.1 export: quoted-printable UTF-8 with soft breaks, bare types, no UID', () => {
    const [card] = parseVCards(androidCard());
    const c = good(card);
    expect(c.contact['name']).toEqual({ display: 'René École', family: 'École', given: 'René' });
    expect(c.contact['phones']).toEqual([{ label: 'mobile', number: '07700 900123' }, { label: 'home', number: '+33 1 23 45 67 89' }]);
    expect(c.contact['note']).toBe('Café au lait, a long note that Android breaks with a soft line break');
    expect(Buffer.from(c.photo?.bytes ?? []).equals(jpeg)).toBe(true);
    // No UID: the id derives from the name, so the same person keeps it across exports.
    expect(c.contact.id).toMatch(/^vcard-[0-9a-f]{24}$/);
    const edited = new TextDecoder().decode(androidCard()).replace('07700 900123', '07700 900999');
    expect(good(parseVCards(new TextEncoder().encode(edited))[0]).contact.id).toBe(c.contact.id);
  });

  it('decodes ISO-8859-1 values, quoted-printable or raw 8-bit, by their CHARSET', () => {
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen\r\nNOTE;CHARSET=ISO-8859-1:Gr'),
      0xfc, 0xdf, 0x65,
      ...new TextEncoder().encode('\r\nEND:VCARD\r\n'),
    ]);
    const c = good(parseVCards(bytes)[0]);
    expect(c.contact['name']).toEqual({ family: 'Müller', given: 'Jürgen' });
    expect(c.contact['note']).toBe('Grüße');
  });

  it('reads vCard 4.0: tel: URIs, quoted parameter lists, data: URI photos, urn:uuid UIDs', () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const c = good(parseVCards(crlf([
      'BEGIN:VCARD', 'VERSION:4.0', 'UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1', 'FN:Grace Hopper',
      'TEL;VALUE=uri;TYPE="voice,cell";PREF=1:tel:+1-415-555-0100', 'EMAIL;TYPE=work:grace@navy.example',
      `PHOTO;MEDIATYPE=image/png:data:image/png;base64,${png}`, 'BDAY:--1209', 'END:VCARD',
    ]))[0]);
    expect(c.contact.id).toBe('4fbe8971-0bc3-424c-9c26-36c3e1eff6b1');
    expect(c.contact['phones']).toEqual([{ label: 'mobile', number: 'tel:+1-415-555-0100' }]);
    expect(c.contact['birthday']).toBe('--12-09');
    expect(c.photo?.mimeType).toBe('image/png');
    expect(c.photo?.bytes.byteLength).toBe(Buffer.from(png, 'base64').byteLength);
  });

  it('reads many cards, records bad ones with a reason and keeps the rest', () => {
    const bytes = lf([
      'BEGIN:VCARD', 'VERSION:3.0', 'FN:First', 'END:VCARD',
      'BEGIN:VCARD', 'VERSION:5.0', 'FN:Future', 'END:VCARD',
      'BEGIN:VCARD', 'VERSION:3.0', 'X-CUSTOM:only', 'UID:empty-1', 'END:VCARD',
      'BEGIN:VCARD', 'VERSION:3.0', 'this line has no colon', 'FN:Broken', 'END:VCARD',
      'BEGIN:VCARD', 'VERSION:3.0', 'FN:Second', 'END:VCARD',
      'BEGIN:VCARD', 'VERSION:3.0', 'FN:Cut off',
    ]);
    const cards = parseVCards(bytes);
    expect(cards.map((c) => (c.ok ? `ok ${String((c.contact['name'] as { display: string }).display)}` : `bad ${c.sourceId}: ${c.reason}`))).toEqual([
      'ok First',
      'bad card:2: unsupported vCard version 5.0',
      'bad empty-1: no name, phone, e-mail or organization',
      'bad card:4: line "this line has no colon" is not a content line',
      'ok Second',
      'bad card:6: truncated: no END:VCARD',
    ]);
  });

  it('drops an undecodable value or photo with a warning, and refuses a card left without a name', () => {
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('BEGIN:VCARD\nVERSION:3.0\nFN:Ok\nNOTE:bad '), 0xff, 0xfe,
      ...new TextEncoder().encode('\nPHOTO;ENCODING=b;TYPE=JPEG:@@not base64@@\nEND:VCARD\nBEGIN:VCARD\nVERSION:3.0\nFN:'), 0xc3, 0x28,
      ...new TextEncoder().encode('\nEND:VCARD\n'),
    ]);
    const [first, second] = parseVCards(bytes);
    expect(good(first).warnings).toEqual(['NOTE is not valid UTF-8; dropped', 'photo is not valid base64; dropped']);
    expect(good(first).contact['note']).toBeUndefined();
    expect(second).toMatchObject({ ok: false, reason: 'no readable name, phone, e-mail or organization (FN is not valid UTF-8; dropped)' });
  });

  it('joins quoted-printable soft line breaks with a bare QUOTED-PRINTABLE parameter too', () => {
    const c = good(parseVCards(crlf([
      'BEGIN:VCARD', 'VERSION:2.1', 'FN:Q', 'NOTE;QUOTED-PRINTABLE:first half =', 'second half =3D done', 'TEL;VOICE:+44 20 7946 0018', 'END:VCARD',
    ]))[0]);
    expect(c.contact['note']).toBe('first half second half = done');
    expect(c.contact['phones']).toEqual([{ number: '+44 20 7946 0018' }]);
  });

  it('keeps a vCard 2.1 AGENT card inside its parent: the parent keeps every line, the agent is no contact (issue 14)', () => {
    const cards = parseVCards(crlf([
      'BEGIN:VCARD', 'VERSION:2.1', 'N:Boss;Betty', 'FN:Betty Boss',
      'AGENT:',
      'BEGIN:VCARD', 'VERSION:2.1', 'N:Helper;Harry', 'FN:Harry Helper', 'TEL;WORK:+44 20 7946 0111', 'END:VCARD',
      'TEL;CELL:+44 7700 900123', 'EMAIL:betty@example.com', 'END:VCARD',
      'BEGIN:VCARD', 'VERSION:2.1', 'FN:Next Card', 'END:VCARD',
    ]));
    expect(cards.map((c) => c.ok)).toEqual([true, true]);
    const parent = good(cards[0]);
    // Lines after the agent's END:VCARD are the parent's.
    expect(parent.contact['phones']).toEqual([{ label: 'mobile', number: '+44 7700 900123' }]);
    expect(parent.contact['emails']).toEqual([{ address: 'betty@example.com' }]);
    expect(parent.contact['agent']).toEqual({ name: { display: 'Harry Helper', family: 'Helper', given: 'Harry' }, phones: [{ label: 'work', number: '+44 20 7946 0111' }] });
    expect(parent.warnings).toEqual([]);
    expect((good(cards[1]).contact['name'] as { display: string }).display).toBe('Next Card');
  });

  it('drops an agent card nested in an agent card, or one without a name, with a warning', () => {
    const [parent, next] = parseVCards(lf([
      'BEGIN:VCARD', 'VERSION:2.1', 'FN:Top',
      'AGENT:',
      'BEGIN:VCARD', 'VERSION:2.1', 'FN:Middle', 'AGENT:', 'BEGIN:VCARD', 'FN:Inner', 'END:VCARD', 'NOTE:middle note', 'END:VCARD',
      'NOTE:top note',
      'END:VCARD',
      'BEGIN:VCARD', 'VERSION:2.1', 'FN:Other', 'AGENT:', 'BEGIN:VCARD', 'X-ONLY:nothing', 'END:VCARD', 'END:VCARD',
    ]));
    expect(good(parent).contact['note']).toBe('top note');
    expect(good(parent).contact['agent']).toEqual({ name: { display: 'Middle' }, note: 'middle note' });
    expect(good(parent).warnings).toEqual(['an AGENT card inside an AGENT card; dropped']);
    expect(good(next).contact['agent']).toBeUndefined();
    expect(good(next).warnings).toEqual(['AGENT card has no name, phone, e-mail or organization; dropped']);
  });

  it('tells vCard from NDJSON by its first bytes', () => {
    expect(looksLikeVCard(new TextEncoder().encode('\ufeff\r\n  begin:vcard\r\n'))).toBe(true);
    expect(looksLikeVCard(new TextEncoder().encode('{"id":"c1"}\n'))).toBe(false);
  });
});

describe('contacts strategy with vCard chunks', () => {
  const setup = (opts = {}) => {
    const blobs = new MapBlobStore();
    const content = new ContentStore(blobs);
    return { blobs, content, ctx: { uid: 'alice', jobId: 'job-00001', options: BackupOptions.parse(opts), content } };
  };
  const record = async (content: ContentStore, item: ManifestItem) =>
    JSON.parse(new TextDecoder().decode(await content.get('alice', item.blob ?? '')).trimEnd().split('\n')[item.part ?? 0] ?? 'null') as Record<string, any>;

  it('stores iOS and Android cards as normalized contacts, photos as media blobs, E.164 with the region', async () => {
    const { content, ctx } = setup({ phoneRegion: 'GB' });
    const chunk = new Uint8Array([...iosCard(), ...androidCard()]);
    const items = await contactsStrategy.processChunk(chunk, ctx);
    expect(items.map((i) => [i.type, i.sourceId, i.part ?? null, i.transforms])).toEqual([
      ['contacts', '6F3E9A52-1C3B-4B1F-9D55-0A1B2C3D4E5F', 0, ['vcard', 'normalized']],
      ['contacts', expect.stringMatching(/^vcard-/), 1, ['vcard', 'normalized']],
      ['media', 'contact:6F3E9A52-1C3B-4B1F-9D55-0A1B2C3D4E5F:photo', null, ['contact photo', 'stored as is']],
      ['media', expect.stringMatching(/^contact:vcard-.*:photo$/), null, ['contact photo', 'stored as is']],
    ]);
    const ada = await record(content, items[0] as ManifestItem);
    expect(ada['phones']).toEqual([
      { label: 'mobile', number: '+44 20 7946 0018', e164: '+442079460018' },
      { label: 'lab', number: '020 7946 0999', e164: '+442079460999' },
    ]);
    expect(ada['emails']).toEqual([{ label: 'home', address: 'ada@example.com' }]);
    expect(ada['photo']).toEqual({ blob: sha256Hex(jpeg), size: jpeg.byteLength, mimeType: 'image/jpeg' });
    expect(Buffer.from(await content.get('alice', ada['photo'].blob)).equals(jpeg)).toBe(true);
    const rene = await record(content, items[1] as ManifestItem);
    expect(rene['phones'].map((p: { e164?: string }) => p.e164)).toEqual(['+447700900123', '+33123456789']);
    expect(rene['emails']).toEqual([{ label: 'home', address: 'rene@example.fr' }]);
    // Each stored record carries its own digest, which snapshot diffs compare.
    const lines = new TextDecoder().decode(await content.get('alice', items[0]?.blob ?? '')).trimEnd().split('\n');
    expect(items[0]?.digest).toBe(sha256Hex(new TextEncoder().encode(lines[0])));
  });

  it('records a bad card on the manifest and stores the rest', async () => {
    const { ctx } = setup();
    const items = await contactsStrategy.processChunk(lf(['BEGIN:VCARD', 'VERSION:3.0', 'FN:Fine', 'END:VCARD', 'BEGIN:VCARD', 'VERSION:9', 'FN:x', 'END:VCARD']), ctx);
    expect(items.map((i) => [i.blob === null, i.skipReason])).toEqual([[false, undefined], [true, 'card 2: unsupported vCard version 9']]);
  });
});
