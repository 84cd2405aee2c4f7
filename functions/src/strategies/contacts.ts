/**
 * Contacts: NDJSON, one contact per line. Each valid line is normalized (trimmed names, e-mails
 * lower-cased, phone numbers with an E.164 form where the number already carries its country
 * code); the chunk's contacts are stored together as one NDJSON pack blob, and each manifest item
 * points at its line in the pack. A malformed line is recorded with its line number and reason.
 */
import { z } from 'zod';
import type { ManifestItem } from '../core/model';
import { canonicalJson, decodeUtf8, type Strategy } from './strategy';

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
 * `+` and 8..15 digits once spaces, dots, dashes and brackets are gone; otherwise null. The
 * national trunk prefix written as `(0)` after a country code (`+44 (0)20 …`) is dropped.
 */
export function toE164(number: string): string | null {
  const compact = number.replace(/\(0\)/g, '').replace(/[\s().-]/g, '');
  const international = compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
  return /^\+[1-9]\d{7,14}$/.test(international) ? international : null;
}

export function normalizeContact(contact: ContactInput): Record<string, unknown> {
  const { phones, emails, ...rest } = contact;
  const out: Record<string, unknown> = { ...rest };
  if (phones) {
    out['phones'] = phones.map((p) => {
      const e164 = toE164(p.number);
      return e164 ? { ...p, e164 } : { ...p };
    });
  }
  if (emails) out['emails'] = emails.map((e) => ({ ...e, address: e.address.toLowerCase() }));
  return out;
}

export const contactsStrategy: Strategy = {
  type: 'contacts',
  strategyKey: () => 'v1',
  async processChunk(bytes, { uid, content, signal }) {
    const decoded = decodeUtf8(bytes);
    if (decoded === null) {
      return [{
        type: 'contacts', sourceId: 'chunk', blob: null, originalSize: bytes.byteLength, storedSize: 0,
        transforms: [], skipReason: 'chunk is not valid UTF-8',
      }];
    }
    const encoder = new TextEncoder();
    const lines = decoded.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();

    const packed: string[] = [];
    const pending: Array<{ item: ManifestItem; part: number | null }> = [];
    lines.forEach((line, i) => {
      const lineNo = i + 1;
      const originalSize = encoder.encode(line).byteLength + 1;
      const skip = (sourceId: string, reason: string) =>
        pending.push({
          item: { type: 'contacts', sourceId, blob: null, originalSize, storedSize: 0, transforms: [], skipReason: `line ${lineNo}: ${reason}` },
          part: null,
        });
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (err) {
        skip(`line:${lineNo}`, `not JSON (${(err as Error).message})`);
        return;
      }
      const parsed = ContactInput.safeParse(json);
      if (!parsed.success) {
        const id = json && typeof json === 'object' && typeof (json as { id?: unknown }).id === 'string' ? (json as { id: string }).id : `line:${lineNo}`;
        skip(id, z.prettifyError(parsed.error).replace(/\n/g, ' '));
        return;
      }
      pending.push({
        item: { type: 'contacts', sourceId: parsed.data.id, blob: null, originalSize, storedSize: 0, transforms: ['normalized'] },
        part: packed.length,
      });
      packed.push(canonicalJson(normalizeContact(parsed.data)));
    });

    if (packed.length === 0) return pending.map((p) => p.item);
    const pack = encoder.encode(packed.join('\n') + '\n');
    const stored = await content.put(uid, pack, signal ? { signal } : {});
    // Items share the pack; each carries its share of the stored bytes so totals add up.
    return pending.map(({ item, part }) =>
      part === null
        ? item
        : {
            ...item,
            blob: stored.hash,
            blobSize: stored.size,
            part,
            storedSize: Math.round((stored.storedSize * item.originalSize) / bytes.byteLength),
          },
    );
  },
};
