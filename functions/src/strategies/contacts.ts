/**
 * Contacts: NDJSON, one contact per line, or vCard 2.1/3.0/4.0 text (see vcard-parse.ts). Each
 * contact is normalized (trimmed names, e-mails lower-cased, phone numbers with an E.164 form
 * where the number allows, read in the contact's own `phoneRegion` or else the job's: see
 * phone-number.ts); the chunk's contacts are stored together as one
 * NDJSON pack blob, and each manifest item points at its line in the pack and carries the line's
 * SHA-256 (`digest`), which snapshot diffs compare. A vCard photo is stored as its own blob, named
 * by the contact (`photo: {blob, size, mimeType}`) and listed as a `media` item. A malformed line
 * or card is recorded with its position and reason.
 */
import { z } from 'zod';
import { sha256Hex } from '../core/hash';
import type { BackupOptions, ManifestItem } from '../core/model';
import { normalizePhone, phoneRegion } from './phone-number';
import { RECORD_LIMITS } from '../core/record-limits';
import { boundedReason, canonicalJson, decodeUtf8, overCountItem, parseRecord, stringField, type Strategy, type StrategyContext } from './strategy';
import { looksLikeVCard, parseVCards } from './vcard-parse';

const text = z.string().trim().max(1000);

export const ContactInput = z.looseObject({
  id: z.string().trim().min(1).max(256),
  name: z
    .looseObject({
      given: text.optional(),
      middle: text.optional(),
      family: text.optional(),
      display: text.optional(),
    })
    .optional(),
  phones: z.array(z.looseObject({ label: text.optional(), number: z.string().trim().min(1).max(64) })).max(100).optional(),
  emails: z.array(z.looseObject({ label: text.optional(), address: z.string().trim().min(3).max(320) })).max(100).optional(),
  organization: text.optional(),
  birthday: z.string().max(32).optional(),
  note: z.string().max(10_000).optional(),
});
export type ContactInput = z.infer<typeof ContactInput>;

/**
 * The E.164 form of a number, or null: see {@link normalizePhone}. Without a region only numbers
 * written with their country code (`+44 …`, `0044 …`) have one.
 */
export function toE164(number: string, defaultRegion?: string): string | null {
  return normalizePhone(number, defaultRegion ? { defaultRegion } : {});
}

/**
 * The contact normalized for storage. Its national phone numbers are read in the contact's own
 * `phoneRegion` (ISO 3166 alpha-2, e.g. from the country of its address or the SIM it came
 * from) when it names a region the phone metadata knows, else in `options.phoneRegion` (the
 * job's). A `phoneRegion` that names no known region is kept as written, reads nothing, and is
 * reported in `warnings` (when given): the job's region then applies, as for a contact without one.
 */
export function normalizeContact(contact: ContactInput, options: { phoneRegion?: string } = {}, warnings?: string[]): Record<string, unknown> {
  const { phones, emails, ...rest } = contact;
  const out: Record<string, unknown> = { ...rest };
  const own = contact['phoneRegion'];
  const ownRegion = typeof own === 'string' ? phoneRegion(own) : undefined;
  if (own !== undefined && ownRegion === undefined) {
    const shown = typeof own === 'string' ? JSON.stringify(own.slice(0, 16)) : `(${own === null ? 'null' : typeof own})`;
    warnings?.push(`phoneRegion ${shown} is not a known region; national numbers read in ${options.phoneRegion ?? 'no region'}`);
  }
  const region = ownRegion ?? options.phoneRegion;
  if (phones) {
    out['phones'] = phones.map((p) => {
      const e164 = toE164(p.number, region);
      return e164 ? { ...p, e164 } : { ...p };
    });
  }
  if (emails) out['emails'] = emails.map((e) => ({ ...e, address: e.address.toLowerCase() }));
  return out;
}

const encoder = new TextEncoder();

interface Pending {
  item: ManifestItem;
  /** The normalized record for the pack, or null for a skipped item. */
  record: string | null;
}

const regionOf = (options: BackupOptions): { phoneRegion?: string } => (options.phoneRegion ? { phoneRegion: options.phoneRegion } : {});

/**
 * One NDJSON line per contact; malformed lines are recorded with their number and reason, and so
 * are lines over the record limits (core/record-limits.ts). Lines past the count one chunk may
 * hold are one skipped item.
 */
function fromNdjson(decoded: string, options: BackupOptions): Pending[] {
  const lines = decoded.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const max = RECORD_LIMITS.maxRecordsPerChunk;
  const out: Pending[] = [];
  let overSize = 0;
  for (const [i, line] of lines.entries()) {
    const lineNo = i + 1;
    const originalSize = encoder.encode(line).byteLength + 1;
    if (i >= max) {
      overSize += originalSize;
      continue;
    }
    const skip = (sourceId: string, reason: string): Pending => ({
      item: { type: 'contacts', sourceId, blob: null, originalSize, storedSize: 0, transforms: [], skipReason: boundedReason(`line ${lineNo}: ${reason}`) },
      record: null,
    });
    const record = parseRecord(line, originalSize - 1);
    if (!record.ok) {
      out.push(skip(stringField(record.value, 'id') ?? `line:${lineNo}`, record.reason));
      continue;
    }
    const json = record.value;
    const parsed = ContactInput.safeParse(json);
    if (!parsed.success) {
      out.push(skip(stringField(json, 'id') ?? `line:${lineNo}`, z.prettifyError(parsed.error).replace(/\n/g, ' ')));
      continue;
    }
    const warnings: string[] = [];
    const normalized = canonicalJson(normalizeContact(parsed.data, regionOf(options), warnings));
    out.push({
      item: {
        type: 'contacts', sourceId: parsed.data.id, blob: null, originalSize, storedSize: 0, transforms: ['normalized'],
        ...(warnings.length > 0 ? { warning: boundedReason(warnings.join('; ')) } : {}),
      },
      record: normalized,
    });
  }
  if (lines.length > max) out.push({ item: overCountItem('contacts', max + 1, lines.length, overSize), record: null });
  return out;
}

/** vCard text: each card becomes a contact; a photo is stored first, as its own blob. */
async function fromVCards(bytes: Uint8Array, { uid, options, content, signal }: StrategyContext): Promise<{ pending: Pending[]; photos: ManifestItem[] }> {
  const pending: Pending[] = [];
  const photos: ManifestItem[] = [];
  const cards = parseVCards(bytes);
  const max = RECORD_LIMITS.maxRecordsPerChunk;
  for (const card of cards.length > max ? cards.slice(0, max) : cards) {
    const skip = (sourceId: string, reason: string): Pending => ({
      item: { type: 'contacts', sourceId, blob: null, originalSize: card.size, storedSize: 0, transforms: [], skipReason: boundedReason(`card ${card.index}: ${reason}`) },
      record: null,
    });
    if (!card.ok) {
      pending.push(skip(card.sourceId, card.reason));
      continue;
    }
    const parsed = ContactInput.safeParse(card.contact);
    if (!parsed.success) {
      pending.push(skip(card.contact.id, z.prettifyError(parsed.error).replace(/\n/g, ' ')));
      continue;
    }
    const warnings = [...card.warnings];
    const contact = normalizeContact(parsed.data, regionOf(options), warnings);
    if (card.photo) {
      // Written before the pack that names it (docs/invariants.md, write order).
      const stored = await content.put(uid, card.photo.bytes, { compress: false, ...(signal ? { signal } : {}) });
      contact['photo'] = { blob: stored.hash, size: stored.size, mimeType: card.photo.mimeType };
      photos.push({
        type: 'media', sourceId: `contact:${parsed.data.id}:photo`, blob: stored.hash, blobSize: stored.size,
        originalSize: card.photo.bytes.byteLength, storedSize: stored.storedSize, transforms: ['contact photo', 'stored as is'],
      });
    }
    pending.push({
      item: {
        type: 'contacts', sourceId: parsed.data.id, blob: null, originalSize: card.size, storedSize: 0,
        transforms: ['vcard', 'normalized'],
        ...(warnings.length > 0 ? { warning: boundedReason(warnings.join('; ')) } : {}),
      },
      record: canonicalJson(contact),
    });
  }
  if (cards.length > max) {
    const overSize = cards.slice(max).reduce((n, c) => n + c.size, 0);
    pending.push({ item: overCountItem('contacts', max + 1, cards.length, overSize, 'cards'), record: null });
  }
  return { pending, photos };
}

export const contactsStrategy: Strategy = {
  type: 'contacts',
  // v3: phone numbers normalized by libphonenumber-js for every region (v2 knew 25), so a chunk
  // stored under v2 is normalized again rather than answered from the index.
  strategyKey: (options) => (options.phoneRegion ? `v3:r${options.phoneRegion}` : 'v3'),
  async processChunk(bytes, context) {
    let pending: Pending[];
    let photos: ManifestItem[] = [];
    if (looksLikeVCard(bytes)) {
      ({ pending, photos } = await fromVCards(bytes, context));
    } else {
      const decoded = decodeUtf8(bytes);
      if (decoded === null) {
        return [{
          type: 'contacts', sourceId: 'chunk', blob: null, originalSize: bytes.byteLength, storedSize: 0,
          transforms: [], skipReason: 'chunk is not valid UTF-8',
        }];
      }
      pending = fromNdjson(decoded, context.options);
    }

    const records = pending.flatMap((p) => (p.record === null ? [] : [p.record]));
    if (records.length === 0) return [...pending.map((p) => p.item), ...photos];
    const pack = encoder.encode(records.join('\n') + '\n');
    const stored = await context.content.put(context.uid, pack, context.signal ? { signal: context.signal } : {});
    const total = pending.reduce((n, p) => n + p.item.originalSize, 0) || 1;
    let part = 0;
    // Items share the pack; each carries its share of the stored bytes so totals add up.
    const items = pending.map(({ item, record }): ManifestItem =>
      record === null
        ? item
        : {
            ...item,
            blob: stored.hash,
            blobSize: stored.size,
            part: part++,
            storedSize: Math.round((stored.storedSize * item.originalSize) / total),
            digest: sha256Hex(encoder.encode(record)),
          },
    );
    return [...items, ...photos];
  },
};
