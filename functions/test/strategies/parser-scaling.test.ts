/**
 * Every parser runs in time linear in its input (issue 16): each hostile input is doubled and the
 * time must roughly double (ratio within one run, never an absolute time; see
 * helpers/linear-time.ts). Sizes keep one run of the doubled input to tens of milliseconds.
 */
import { parseVCards } from '../../src/strategies/vcard-parse';
import { expectLinear } from '../helpers/linear-time';

const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
const card = (...lines: string[]) => latin1(['BEGIN:VCARD', 'VERSION:2.1', 'FN:Ada', ...lines, 'END:VCARD', ''].join('\r\n'));

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
