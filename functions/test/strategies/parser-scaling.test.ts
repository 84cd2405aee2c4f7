/**
 * Every parser runs in time linear in its input (issue 16): each hostile input is made four times
 * larger and the time must grow about fourfold (ratio within one run, never an absolute time; see
 * helpers/linear-time.ts). Sizes keep one run of the 4x input to tens of milliseconds.
 */
import { ContentStore } from '../../src/core/content-store';
import { BackupOptions } from '../../src/core/model';
import { splitRefLines } from '../../src/core/steps/chunk-refs';
import { chatsStrategy, contactsStrategy, decodeMediaEnvelope, deviceInfoStrategy, normalizePhone } from '../../src/strategies';
import { parseVCards } from '../../src/strategies/vcard-parse';
import { MapBlobStore } from '../fakes/map-blob-store';
import { expectLinear } from '../helpers/linear-time';

const enc = (s: string) => new TextEncoder().encode(s);
const ctx = () => ({ uid: 'alice', jobId: 'job-00001', options: BackupOptions.parse({ phoneRegion: 'GB' }), content: new ContentStore(new MapBlobStore()) });
const lines = (n: number, line: (i: number) => string) => enc(Array.from({ length: n }, (_, i) => line(i)).join('\n') + '\n');
const HASH = 'ab'.repeat(32);

const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
const card = (...lines: string[]) => latin1(['BEGIN:VCARD', 'VERSION:2.1', 'FN:Ada', ...lines, 'END:VCARD', ''].join('\r\n'));

describe('the scaling check', () => {
  it('fails quadratic work (every other test here passes linear work)', async () => {
    const pairs = (values: number[]) => {
      let sum = 0;
      for (const a of values) for (const b of values) sum += a ^ b;
      return sum;
    };
    const values = (n: number) => Array.from({ length: n }, (_, i) => i);
    await expect(expectLinear('pairs × n', 2_000, values, pairs)).rejects.toThrow(/4x the input took/);
  });
});

describe('vCard parser scales linearly', () => {
  it('one TEL with many parameters', async () => {
    await expectLinear('TEL;TYPE=x × n', 20_000, (n) => card(`TEL${';TYPE=x'.repeat(n)}:+44 20 7946 0018`), (b) => parseVCards(b));
  });

  it('many bare parameters and comma lists', async () => {
    await expectLinear('TEL;CELL × n', 20_000, (n) => card(`TEL${';CELL'.repeat(n)};TYPE=${'a,'.repeat(n)}b:1`), (b) => parseVCards(b));
  });

  it('one value folded over many lines', async () => {
    await expectLinear('folds × n', 10_000, (n) => card(`NOTE:start`, ...Array.from({ length: n }, () => ' folded part of a note')), (b) => parseVCards(b));
  });

  it('many quoted-printable soft line breaks', async () => {
    await expectLinear('QP soft breaks × n', 20_000, (n) => card('NOTE;ENCODING=QUOTED-PRINTABLE:=C3=A9=', ...Array.from({ length: n }, () => 'abc=C3=A9=')), (b) => parseVCards(b));
  });

  it('a huge base64 photo', async () => {
    await expectLinear('base64 × n', 50_000, (n) => card(`PHOTO;ENCODING=b;TYPE=JPEG:${'/9j/'.repeat(n)}`), (b) => parseVCards(b));
  });

  it('a huge folded base64 photo', async () => {
    await expectLinear('folded base64 × n', 5_000, (n) => card('PHOTO;ENCODING=BASE64;TYPE=JPEG:', ...Array.from({ length: n }, () => ` ${'/9j/'.repeat(18)}`)), (b) => parseVCards(b));
  });

  it('one very long line', async () => {
    await expectLinear('long NOTE', 100_000, (n) => card(`NOTE:${'x\\,'.repeat(n)}`), (b) => parseVCards(b));
  });

  it('a head with many quoted parameter values', async () => {
    await expectLinear('quoted params', 10_000, (n) => card(`TEL${';TYPE="a:b;c"'.repeat(n)}:1`), (b) => parseVCards(b));
  });

  it('many properties in one card', async () => {
    await expectLinear('properties × n', 5_000, (n) => card(...Array.from({ length: n }, (_, i) => `TEL;CELL:+4420794${String(i).padStart(5, '0')}`)), (b) => parseVCards(b));
  });

  it('many tiny cards', async () => {
    await expectLinear('cards × n', 5_000, (n) => latin1(Array.from({ length: n }, (_, i) => `BEGIN:VCARD\r\nFN:C${i}\r\nEND:VCARD\r\n`).join('')), (b) => parseVCards(b));
  });

  it('many cards that never end', async () => {
    await expectLinear('BEGIN × n', 10_000, (n) => latin1('BEGIN:VCARD\r\nFN:x\r\n'.repeat(n)), (b) => parseVCards(b));
  });
});

describe('contacts NDJSON scales linearly', () => {
  it('many tiny contacts', async () => {
    await expectLinear('contacts × n', 2_000, (n) => lines(n, (i) => `{"id":"c${i}","phones":[{"number":"020 7946 ${String(i % 10_000).padStart(4, '0')}"}]}`), (b) => contactsStrategy.processChunk(b, ctx()));
  });

  it('one contact with a huge phone list (refused by its schema)', async () => {
    await expectLinear('phones × n', 15_000, (n) => enc(`{"id":"c1","phones":[${Array.from({ length: n }, () => '{"number":"+442079460018"}').join(',')}]}\n`), (b) => contactsStrategy.processChunk(b, ctx()));
  });

  it('many bad lines', async () => {
    await expectLinear('bad lines × n', 5_000, (n) => lines(n, (i) => `{"id":"c${i}",`), (b) => contactsStrategy.processChunk(b, ctx()));
  });

  it('one long line', async () => {
    await expectLinear('long contact', 50_000, (n) => enc(`{"id":"c1","note":"${'\\u00e9'.repeat(n)}"}\n`), (b) => contactsStrategy.processChunk(b, ctx()));
  });

  it('many unknown fields, sorted by canonical JSON', async () => {
    await expectLinear('fields × n', 10_000, (n) => enc(`{"id":"c1",${Array.from({ length: n }, (_, i) => `"k${(i * 7919) % n}_${i}":${i}`).join(',')}}\n`), (b) => contactsStrategy.processChunk(b, ctx()));
  });

  it('records nested up to the depth limit, many of them', async () => {
    await expectLinear('nested × n', 1_000, (n) => lines(n, (i) => `{"id":"c${i}","x":${'['.repeat(60)}${']'.repeat(60)}}`), (b) => contactsStrategy.processChunk(b, ctx()));
  });
});

describe('chats NDJSON scales linearly', () => {
  const message = (id: string, conversation: string, sentAt: number, extra = '') => `{"id":"${id}","conversationId":"${conversation}","senderId":"u","sentAt":${sentAt},"text":"hi"${extra}}`;

  it('many tiny messages over many conversations', async () => {
    await expectLinear('messages × n', 2_000, (n) => lines(n, (i) => message(`m${i}`, `k${i % 97}`, 1_700_000_000_000 + i)), (b) => chatsStrategy.processChunk(b, ctx()));
  });

  it('one message id repeated many times', async () => {
    await expectLinear('duplicates × n', 2_000, (n) => lines(n, (i) => message('m1', 'k', 1_700_000_000_000, `,"editedAt":${1_700_000_000_000 + i}`)), (b) => chatsStrategy.processChunk(b, ctx()));
  });

  it('one huge message', async () => {
    await expectLinear('long text', 200_000, (n) => enc(`${message('m1', 'k', 1, `,"extra":"${'ab'.repeat(n)}"`)}\n`), (b) => chatsStrategy.processChunk(b, ctx()));
  });
});

describe('device info, recipes, media envelopes and phone numbers scale linearly', () => {
  it('device info with many fields', async () => {
    await expectLinear('device fields × n', 10_000, (n) => enc(`{"model":"P","os":"a","osVersion":"1","appVersion":"1","locale":"en",${Array.from({ length: n }, (_, i) => `"f${n - i}":"${i}"`).join(',')}}`), (b) => deviceInfoStrategy.processChunk(b, ctx()));
  });

  it('splitRefLines: many reference lines among records', async () => {
    await expectLinear('ref lines × n', 10_000, (n) => lines(n, (i) => (i % 2 === 0 ? `{"$ref":"${HASH}","except":["c${i}"]}` : `{"id":"c${i}"}`)), (b) => splitRefLines(b));
  });

  it('splitRefLines: one reference line with a huge list', async () => {
    await expectLinear('ref names × n', 20_000, (n) => enc(`{"$ref":"${HASH}","only":[${Array.from({ length: n }, (_, i) => `["k","m${i}"]`).join(',')}]}\n`), (b) => splitRefLines(b));
  });

  it('a media envelope with a huge body, and with a header of many fields', async () => {
    const envelope = (header: string, body: number) => {
      const head = enc(header);
      const out = new Uint8Array(8 + head.byteLength + body);
      out.set(enc('LBM1'));
      new DataView(out.buffer).setUint32(4, head.byteLength, false);
      out.set(head, 8);
      return out;
    };
    await expectLinear('envelope body', 8 * 1024 * 1024, (n) => envelope(`{"sourceId":"a","name":"a","size":${n}}`, n), (b) => decodeMediaEnvelope(b));
    await expectLinear('envelope header', 2_000, (n) => envelope(`{"sourceId":"a","name":"a","size":0,${Array.from({ length: n }, (_, i) => `"x${i}":[${i}]`).join(',')}}`, 0), (b) => decodeMediaEnvelope(b));
  });

  it('phone numbers, long and many', async () => {
    await expectLinear('phone length', 1_000_000, (n) => ` ${'0'.repeat(n)} `, (v) => normalizePhone(v, { defaultRegion: 'GB' }));
    await expectLinear('phones', 20_000, (n) => Array.from({ length: n }, (_, i) => `(020) 7946-${String(i % 10_000).padStart(4, '0')}`), (list) => list.map((v) => normalizePhone(v, { defaultRegion: 'GB' })));
  });
});
