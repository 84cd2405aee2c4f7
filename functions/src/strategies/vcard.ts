/**
 * vCard 3.0 output for restored contacts (RFC 2426): CRLF line ends, text values escaped, lines
 * folded at 75 octets. Input is the normalized contact the contacts strategy stores.
 */
const encoder = new TextEncoder();

function escapeText(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\r\n|\n|\r/g, '\\n').replace(/,/g, '\\,').replace(/;/g, '\\;');
}

/** Folds a content line so no physical line exceeds 75 octets, never splitting a character. */
export function foldLine(line: string): string {
  const out: string[] = [];
  let current = '';
  let octets = 0;
  for (const ch of line) {
    const size = encoder.encode(ch).byteLength;
    const limit = out.length === 0 ? 75 : 74; // continuation lines start with a space
    if (octets + size > limit) {
      out.push(current);
      current = '';
      octets = 0;
    }
    current += ch;
    octets += size;
  }
  out.push(current);
  return out.join('\r\n ');
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const typeParam = (label: unknown): string => {
  const l = str(label);
  return l && /^[A-Za-z0-9-]+$/.test(l) ? `;TYPE=${l.toUpperCase()}` : '';
};

export function formatVCard(contact: Record<string, unknown>): string {
  const name = (contact['name'] ?? {}) as Record<string, unknown>;
  const given = str(name['given']) ?? '';
  const family = str(name['family']) ?? '';
  const middle = str(name['middle']) ?? '';
  const display = str(name['display']) ?? ([given, middle, family].filter(Boolean).join(' ') || String(contact['id']));
  const lines = ['BEGIN:VCARD', 'VERSION:3.0', `UID:${escapeText(String(contact['id']))}`, `FN:${escapeText(display)}`, `N:${[family, given, middle, '', ''].map(escapeText).join(';')}`];
  for (const phone of (contact['phones'] as Array<Record<string, unknown>> | undefined) ?? []) {
    const number = str(phone['e164']) ?? str(phone['number']);
    if (number) lines.push(`TEL${typeParam(phone['label'])}:${escapeText(number)}`);
  }
  for (const email of (contact['emails'] as Array<Record<string, unknown>> | undefined) ?? []) {
    const address = str(email['address']);
    if (address) lines.push(`EMAIL${typeParam(email['label'])}:${escapeText(address)}`);
  }
  const org = str(contact['organization']);
  if (org) lines.push(`ORG:${escapeText(org)}`);
  const birthday = str(contact['birthday']);
  if (birthday) lines.push(`BDAY:${escapeText(birthday)}`);
  const note = str(contact['note']);
  if (note) lines.push(`NOTE:${escapeText(note)}`);
  lines.push('END:VCARD');
  return lines.map(foldLine).join('\r\n') + '\r\n';
}
