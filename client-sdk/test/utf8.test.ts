/**
 * The SDK's UTF-8 fallback (utf8.ts), for runtimes without TextEncoder/TextDecoder: it must give
 * exactly what the platform's codecs give, valid input or not.
 */
import fc from 'fast-check';
import { decodeUtf8, encodeUtf8 } from '../src/utf8';

const RUNS = { seed: 2313, numRuns: 500 };

describe('UTF-8 fallback', () => {
  it('encodes every string as TextEncoder does, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string({ unit: fc.constantFrom('\ud800', '\udfff', 'a', '€', '😀', '\u0000') })), (text) => {
        expect(Buffer.from(encodeUtf8(text))).toEqual(Buffer.from(new TextEncoder().encode(text)));
      }),
      RUNS,
    );
  });

  it('decodes any bytes as a non-fatal TextDecoder does', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string({ unit: 'grapheme' }).map((s) => new TextEncoder().encode(s))), (bytes) => {
        expect(decodeUtf8(bytes)).toBe(new TextDecoder().decode(bytes));
      }),
      RUNS,
    );
    for (const bad of [[0xe0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf0, 0x9f, 0x98], [0xc0, 0xaf], [0xff]]) {
      expect(decodeUtf8(new Uint8Array(bad))).toBe(new TextDecoder().decode(new Uint8Array(bad)));
    }
    const long = new TextEncoder().encode('ä'.repeat(40_000));
    expect(decodeUtf8(long)).toBe('ä'.repeat(40_000));
  });
});
