/**
 * Each strategy's parser, fuzzed (issue 16): random bytes and structured garbage never make a
 * strategy throw (a bad item is a skipped item, never the chunk's failure), and a good record
 * beside bad ones is always stored.
 */
import fc from 'fast-check';
import { ContentStore } from '../../src/core/content-store';
import { LifeboatError } from '../../src/core/errors';
import { BackupOptions, type ManifestItem } from '../../src/core/model';
import { splitRefLines } from '../../src/core/steps/chunk-refs';
import { chatsStrategy, contactsStrategy, decodeMediaEnvelope, deviceInfoStrategy, normalizePhone, parseVCards } from '../../src/strategies';
import { MapBlobStore } from '../fakes/map-blob-store';
import { checkProperty } from './fuzz';

const enc = (s: string) => new TextEncoder().encode(s);
const ctx = () => ({ uid: 'alice', jobId: 'job-00001', options: BackupOptions.parse({ phoneRegion: 'GB' }), content: new ContentStore(new MapBlobStore()) });
const stored = (items: ManifestItem[]) => new Set(items.filter((i) => i.blob !== null && i.skipReason === undefined).map((i) => i.sourceId));

/** Text that is anything but a line break. */
const lineText = fc.string({ maxLength: 200, unit: 'binary' }).map((s) => s.replace(/[\r\n]/g, ' '));
const deepJson = fc.integer({ min: 60, max: 4_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`);
/** A JSON line that is no valid record: garbage, truncated JSON, wrong shapes, deep nesting, stand-ins. */
const badLine = fc.oneof(
  lineText,
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null').filter((l) => !/"id"/.test(l)),
  deepJson.map((d) => `{"x":${d}}`),
  fc.constant('{"id":'),
  fc.constant('{"$skipped":"too deep","id":"bad"}'),
  fc.constant('{"id":"","name":7}'),
);
const randomBytes = fc.uint8Array({ maxLength: 2_000 });

describe('strategy parsers under random and hostile input', () => {
  it('never throw on random bytes', async () => {
    await checkProperty('strategies: random bytes', fc.asyncProperty(randomBytes, fc.boolean(), async (bytes, asVCard) => {
      const input = asVCard ? new Uint8Array([...enc('BEGIN:VCARD\r\n'), ...bytes]) : bytes;
      await contactsStrategy.processChunk(input, ctx());
      await chatsStrategy.processChunk(input, ctx());
      await deviceInfoStrategy.processChunk(input, ctx());
      decodeMediaEnvelope(input);
      parseVCards(input);
      try {
        splitRefLines(new Uint8Array([...enc('{"$ref":'), ...bytes]));
      } catch (err) {
        // A recipe the server cannot read is refused, with its code.
        if (!(err instanceof LifeboatError) || err.code !== 'invalid-argument') throw err;
      }
    }), { runs: 150 });
  });

  it('contacts NDJSON: every good contact beside bad lines is stored', async () => {
    const lines = fc.array(fc.oneof(fc.nat(99).map((n) => ({ good: `g${n}` })), badLine.map((bad) => ({ bad }))), { maxLength: 40 });
    await checkProperty('contacts: good beside bad', fc.asyncProperty(lines, async (list) => {
      const seen = new Set<string>();
      const text = list.map((l) => {
        if ('bad' in l) return l.bad;
        seen.add(l.good);
        return JSON.stringify({ id: l.good, name: { display: `N ${l.good}` }, phones: [{ number: '020 7946 0018' }] });
      });
      const items = await contactsStrategy.processChunk(enc(text.map((l) => `${l}\n`).join('')), ctx());
      expect(items).toHaveLength(list.length);
      const ok = stored(items);
      for (const id of seen) expect(ok.has(id)).toBe(true);
    }), { runs: 100 });
  });

  it('chats NDJSON: every good message beside bad lines is stored', async () => {
    const lines = fc.array(fc.oneof(fc.record({ id: fc.nat(99), conversation: fc.constantFrom('a', 'b', 'c') }).map((good) => ({ good })), badLine.map((bad) => ({ bad }))), { maxLength: 40 });
    await checkProperty('chats: good beside bad', fc.asyncProperty(lines, async (list) => {
      const seen = new Set<string>();
      const text = list.map((l, i) => {
        if ('bad' in l) return l.bad;
        // Unique per line: a repeated id is the same message, kept once by design.
        const id = `m${l.good.id}-${i}`;
        seen.add(id);
        return JSON.stringify({ id, conversationId: l.good.conversation, senderId: 'u', sentAt: 1_700_000_000_000 + i, text: 't' });
      });
      const items = await chatsStrategy.processChunk(enc(text.map((l) => `${l}\n`).join('')), ctx());
      expect(items.filter((i) => i.type === 'chats')).toHaveLength(list.length);
      const ok = stored(items);
      for (const id of seen) expect(ok.has(id)).toBe(true);
    }), { runs: 100 });
  });

  it('vCards: every good card beside garbage cards is read', async () => {
    // Garbage content lines, as bytes: anything but a card boundary, a continuation line (a
    // leading space or tab folds it into the line before: into BEGIN:VCARD, the card would never
    // begin) or a value that goes on over the next line (a quoted-printable soft break would make
    // END:VCARD part of the value).
    const garbageLine = fc
      .uint8Array({ maxLength: 120 })
      .map((b) => String.fromCharCode(...b).replace(/[\r\n]/g, '.'))
      .filter((l) => !/^\s*(BEGIN|END)\s*:/i.test(l.trim()) && !/^[ \t]/.test(l) && !l.endsWith('='));
    const cards = fc.array(fc.oneof(fc.nat(99).map((n) => ({ good: `Good ${n}` })), fc.array(garbageLine, { maxLength: 8 }).map((bad) => ({ bad }))), { maxLength: 20 });
    await checkProperty('vcard: good beside garbage', fc.asyncProperty(cards, fc.constantFrom('\r\n', '\n'), async (list, eol) => {
      const text = list.map((c) => ('bad' in c ? ['BEGIN:VCARD', ...c.bad, 'END:VCARD'] : ['BEGIN:VCARD', 'VERSION:3.0', `FN:${c.good}`, 'TEL:+44 20 7946 0018', 'END:VCARD']).join(eol)).join(eol);
      const bytes = Uint8Array.from(`${text}${eol}`, (ch) => ch.charCodeAt(0) & 0xff);
      const parsed = parseVCards(bytes);
      expect(parsed).toHaveLength(list.length);
      list.forEach((c, i) => {
        if ('good' in c) expect(parsed[i]).toMatchObject({ ok: true, contact: { name: { display: c.good } } });
      });
      await contactsStrategy.processChunk(bytes, ctx());
    }), { runs: 100 });
  });

  it('device info and phone numbers: never throw, whatever the value', async () => {
    await checkProperty('deviceInfo and phones', fc.asyncProperty(fc.jsonValue({ maxDepth: 5 }), fc.string({ maxLength: 80 }), fc.constantFrom(undefined, 'GB', 'US', 'AU', 'XX'), async (value, phone, region) => {
      await deviceInfoStrategy.processChunk(enc(JSON.stringify(value) ?? ''), ctx());
      const e164 = normalizePhone(phone, region ? { defaultRegion: region } : {});
      // E.164: at most 15 digits; the shortest possible numbers (Austria's) have 6.
      if (e164 !== null) expect(e164).toMatch(/^\+[1-9]\d{5,14}$/);
    }), { runs: 200 });
  });
});
