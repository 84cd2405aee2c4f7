/**
 * vCard input (2.1 as Android exports it, 3.0 as iOS exports it, 4.0): turns a file of cards into
 * contacts in the shape the contacts strategy stores. Handles folded lines (CRLF or LF), grouped
 * properties (`item1.TEL` with `item1.X-ABLabel`), `\` escapes, `ENCODING=QUOTED-PRINTABLE` with
 * soft line breaks and a `CHARSET`, `ENCODING=b`/`BASE64` and `data:` URI photos. A card that
 * cannot be read is returned with its reason; the others are unaffected.
 *
 * The input is read as bytes, not as UTF-8 text: old exports carry 8-bit values in the charset
 * their `CHARSET` parameter names, so each value is decoded on its own (UTF-8 by default).
 */
import { sha256Hex } from '../core/hash';

export interface VCardPhoto {
  bytes: Uint8Array;
  mimeType: string;
}

export type ParsedVCard =
  | {
      ok: true;
      /** 1-based position of the card in the input. */
      index: number;
      /** Bytes of the card in the input, BEGIN to END. */
      size: number;
      contact: Record<string, unknown> & { id: string };
      photo?: VCardPhoto;
      /** What was dropped from an otherwise good card (an unreadable photo, an unknown charset). */
      warnings: string[];
    }
  | { ok: false; index: number; size: number; sourceId: string; reason: string };

interface Property {
  group: string | null;
  name: string;
  params: Map<string, string[]>;
  /** The raw value, one character per byte. */
  raw: string;
}

/** One character per byte (latin1 in the byte-preserving sense, not windows-1252). */
function binaryString(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.byteLength; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, Math.min(i + 8192, bytes.byteLength)));
  }
  return out;
}

const toBytes = (binary: string): Uint8Array => Uint8Array.from(binary, (c) => c.charCodeAt(0) & 0xff);

/** True when the bytes start (after a BOM and blank space) with `BEGIN:VCARD`. */
export function looksLikeVCard(bytes: Uint8Array): boolean {
  let at = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (at < bytes.byteLength && (bytes[at] === 0x20 || bytes[at] === 0x09 || bytes[at] === 0x0d || bytes[at] === 0x0a)) at++;
  return binaryString(bytes.subarray(at, at + 11)).toUpperCase() === 'BEGIN:VCARD';
}

function decodeQuotedPrintable(value: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? '';
    if (c === '=') {
      const hex = value.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        out.push(parseInt(hex, 16));
        i += 2;
        continue;
      }
    }
    out.push(c.charCodeAt(0) & 0xff);
  }
  return Uint8Array.from(out);
}

function decodeBase64(value: string): Uint8Array | null {
  const clean = value.replace(/[\s]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) return null;
  const binary = atob(clean.padEnd(Math.ceil(clean.length / 4) * 4, '='));
  return toBytes(binary);
}

function decodeCharset(bytes: Uint8Array, charset: string | undefined): string {
  const label = (charset ?? 'utf-8').toLowerCase();
  return new TextDecoder(label, { fatal: true }).decode(bytes);
}

/** A property head declaring quoted-printable, as `ENCODING=QUOTED-PRINTABLE` or bare (vCard 2.1). */
const QP_HEAD = /;(ENCODING=)?QUOTED-PRINTABLE(;|$)/i;

/**
 * Splits physical lines into logical content lines: unfolds and joins quoted-printable soft
 * breaks. Linear in the input: a logical line is kept as its pieces and joined once, and whether
 * it is quoted-printable is decided once, from its head (issue 16: deep folding and many soft
 * breaks were quadratic when the joined line was re-read at every piece).
 */
function contentLines(binary: string): string[] {
  const lines: string[] = [];
  let pieces: string[] = [];
  /** The head (before the first `:`) while it is still being read, then null. */
  let head: string | null = '';
  let quotedPrintable = false;
  /** Index in `pieces` of the last non-empty piece, whose last character ends the line. */
  let lastFilled = -1;
  const flush = () => {
    if (pieces.length === 0) return;
    const line = pieces.length === 1 ? (pieces[0] ?? '') : pieces.join('');
    if (line.trim() !== '') lines.push(line);
    pieces = [];
    head = '';
    quotedPrintable = false;
    lastFilled = -1;
  };
  const add = (piece: string) => {
    pieces.push(piece);
    if (piece.length > 0) lastFilled = pieces.length - 1;
    if (head === null) return;
    const colon = piece.indexOf(':');
    if (colon < 0) {
      head += piece;
      return;
    }
    quotedPrintable = QP_HEAD.test(head + piece.slice(0, colon));
    head = null;
  };
  const endsWithSoftBreak = () => quotedPrintable && lastFilled >= 0 && (pieces[lastFilled] ?? '').endsWith('=');
  for (const line of binary.split(/\r\n|\r|\n/)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && pieces.length > 0) {
      add(line.slice(1));
    } else if (pieces.length > 0 && endsWithSoftBreak()) {
      // A quoted-printable soft line break: the value continues on the next line, unindented.
      pieces[lastFilled] = (pieces[lastFilled] ?? '').slice(0, -1);
      while (lastFilled >= 0 && pieces[lastFilled] === '') lastFilled--;
      add(line);
    } else {
      flush();
      add(line);
    }
  }
  flush();
  return lines;
}

/** Parses `[group.]NAME[;param…]:value`; the colon inside a quoted parameter value does not end the name. */
function parseProperty(line: string): Property | null {
  let inQuotes = false;
  let colon = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (c === ':' && !inQuotes) {
      colon = i;
      break;
    }
  }
  if (colon <= 0) return null;
  const [head = '', ...paramParts] = splitUnquoted(line.slice(0, colon), ';');
  const dot = head.lastIndexOf('.');
  const params = new Map<string, string[]>();
  for (const part of paramParts) {
    const eq = part.indexOf('=');
    // vCard 2.1 writes bare types (`TEL;CELL;PREF:`) and bare encodings (`;QUOTED-PRINTABLE`).
    const key = eq < 0 ? (/^(QUOTED-PRINTABLE|BASE64|8BIT|7BIT|B)$/i.test(part) ? 'ENCODING' : 'TYPE') : part.slice(0, eq).toUpperCase();
    let values = params.get(key);
    if (!values) {
      values = [];
      params.set(key, values);
    }
    // Appended in place: copying the list for every parameter was quadratic (issue 16).
    if (eq < 0) values.push(part);
    else for (const v of splitUnquoted(part.slice(eq + 1), ',')) values.push(unquote(v));
  }
  return {
    group: dot >= 0 ? head.slice(0, dot).toLowerCase() : null,
    name: (dot >= 0 ? head.slice(dot + 1) : head).toUpperCase(),
    params,
    raw: line.slice(colon + 1),
  };
}

/** Splits at `separator` outside double quotes; slices, never character-by-character copies. */
function splitUnquoted(value: string, separator: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuotes = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (c === separator && !inQuotes) {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  out.push(value.slice(start));
  return out;
}

const unquote = (v: string): string => (v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v.startsWith('"') ? v.slice(1) : v.endsWith('"') ? v.slice(0, -1) : v);

/** Splits a structured value at unescaped separators, then unescapes each part. */
function splitStructured(value: string, separator: ';' | ','): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? '';
    if (c === '\\' && i + 1 < value.length) {
      current += c + (value[i + 1] ?? '');
      i++;
    } else if (c === separator) {
      out.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  out.push(current);
  return out.map(unescapeText);
}

/** `\n`/`\N` → newline, `\\`, `\;`, `\,`, `\:` → the character. */
export function unescapeText(value: string): string {
  return value.replace(/\\([nN\\;,:])/g, (_m, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

const encodingOf = (p: Property): string => (p.params.get('ENCODING')?.[0] ?? '').toUpperCase();
const typesOf = (p: Property): string[] => (p.params.get('TYPE') ?? []).flatMap((t) => t.split(',')).map((t) => t.trim().toLowerCase()).filter(Boolean);

/** The text of a property value, decoded from its transfer encoding and charset. */
function textValue(p: Property): string {
  const encoding = encodingOf(p);
  const bytes = encoding === 'QUOTED-PRINTABLE' ? decodeQuotedPrintable(p.raw) : encoding === 'B' || encoding === 'BASE64' ? decodeBase64(p.raw) : toBytes(p.raw);
  if (!bytes) throw new Error(`${p.name} is not valid base64`);
  try {
    return decodeCharset(bytes, p.params.get('CHARSET')?.[0]);
  } catch (err) {
    const charset = p.params.get('CHARSET')?.[0];
    throw new Error(err instanceof RangeError && charset ? `${p.name} has an unsupported CHARSET=${charset}` : `${p.name} is not valid ${charset ?? 'UTF-8'}`, { cause: err });
  }
}

/** Apple writes custom and standard labels as `X-ABLabel` in the same group, e.g. `_$!<Mobile>!$_`. */
const appleLabel = (value: string): string => value.replace(/^_\$!<(.*)>!\$_$/, '$1').trim().toLowerCase();

const IGNORED_TYPES = new Set(['pref', 'voice', 'internet', 'x400', 'msg', 'text']);

function labelOf(p: Property, groupLabels: Map<string, string>): string | undefined {
  const fromGroup = p.group ? groupLabels.get(p.group) : undefined;
  if (fromGroup) return fromGroup;
  const type = typesOf(p).find((t) => !IGNORED_TYPES.has(t) && !/^\d+$/.test(t));
  if (type === 'cell') return 'mobile';
  return type;
}

const MIME_BY_TYPE: Readonly<Record<string, string>> = { jpeg: 'image/jpeg', jpg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', heic: 'image/heic' };

function photoOf(p: Property): { photo?: VCardPhoto; url?: string; warning?: string } {
  const encoding = encodingOf(p);
  const type = typesOf(p)[0];
  const mediaType = p.params.get('MEDIATYPE')?.[0];
  if (encoding === 'B' || encoding === 'BASE64') {
    const bytes = decodeBase64(p.raw);
    if (!bytes || bytes.byteLength === 0) return { warning: 'photo is not valid base64; dropped' };
    return { photo: { bytes, mimeType: mediaType ?? MIME_BY_TYPE[type ?? ''] ?? 'application/octet-stream' } };
  }
  const data = /^data:([^;,]*)(;base64)?,(.*)$/is.exec(p.raw);
  if (data) {
    const bytes = data[2] ? decodeBase64(data[3] ?? '') : toBytes(decodeURIComponent(data[3] ?? ''));
    if (!bytes || bytes.byteLength === 0) return { warning: 'photo data URI is not valid; dropped' };
    return { photo: { bytes, mimeType: data[1] || 'application/octet-stream' } };
  }
  const value = p.raw.trim();
  if (/^https?:\/\//i.test(value)) return { url: value };
  return value === '' ? {} : { warning: 'photo is neither inline data nor an http(s) URL; dropped' };
}

/** `19850412`, `1985-04-12`, `--0412` (no year) → ISO-like `1985-04-12` / `--04-12`; others as given. */
function normalizeBirthday(value: string): string {
  const v = value.trim();
  const compact = /^(\d{4})(\d{2})(\d{2})$/.exec(v);
  if (compact) return `${compact[1]}-${compact[2]}-${compact[3]}`;
  const noYear = /^--(\d{2})-?(\d{2})$/.exec(v);
  if (noYear) return `--${noYear[1]}-${noYear[2]}`;
  const dated = /^(\d{4}-\d{2}-\d{2})T/.exec(v);
  return dated?.[1] ?? v;
}

const SUPPORTED_VERSIONS = new Set(['2.1', '3.0', '4.0']);

function buildContact(props: Property[], index: number, size: number, fallbackId: string): ParsedVCard {
  const warnings: string[] = [];
  const groupLabels = new Map<string, string>();
  for (const p of props) {
    if (p.name === 'X-ABLABEL' && p.group) groupLabels.set(p.group, appleLabel(textValue(p)));
  }
  const uidProp = props.find((p) => p.name === 'UID');
  const uid = uidProp ? textValue(uidProp).trim().replace(/^urn:uuid:/i, '') : '';
  const fail = (reason: string): ParsedVCard => ({ ok: false, index, size, sourceId: uid || `card:${index}`, reason });

  const versionText = props.find((p) => p.name === 'VERSION')?.raw.trim();
  if (versionText !== undefined && !SUPPORTED_VERSIONS.has(versionText)) return fail(`unsupported vCard version ${versionText}`);

  const contact: Record<string, unknown> = {};
  const name: Record<string, string> = {};
  const phones: Array<{ label?: string; number: string }> = [];
  const emails: Array<{ label?: string; address: string }> = [];
  const urls: string[] = [];
  const addresses: Array<Record<string, string>> = [];
  let photo: VCardPhoto | undefined;
  for (const p of props) {
    try {
      switch (p.name) {
        case 'FN': {
          const fn = unescapeText(textValue(p)).trim();
          if (fn) name['display'] = fn;
          break;
        }
        case 'N': {
          const [family = '', given = '', middle = '', prefix = '', suffix = ''] = splitStructured(textValue(p), ';').map((s) => s.trim());
          Object.assign(name, Object.fromEntries(Object.entries({ family, given, middle, prefix, suffix }).filter(([, v]) => v !== '')));
          break;
        }
        case 'TEL': {
          const number = unescapeText(textValue(p)).trim();
          const label = labelOf(p, groupLabels);
          if (number) phones.push(label ? { label, number } : { number });
          break;
        }
        case 'EMAIL': {
          const address = unescapeText(textValue(p)).trim();
          const label = labelOf(p, groupLabels);
          if (address) emails.push(label ? { label, address } : { address });
          break;
        }
        case 'ORG': {
          const org = splitStructured(textValue(p), ';').map((s) => s.trim()).filter(Boolean).join(', ');
          if (org) contact['organization'] = org;
          break;
        }
        case 'TITLE':
        case 'NICKNAME':
        case 'NOTE': {
          const value = unescapeText(textValue(p)).trim();
          if (value) contact[p.name.toLowerCase()] = value;
          break;
        }
        case 'BDAY': {
          const value = textValue(p).trim();
          if (value) contact['birthday'] = normalizeBirthday(value);
          break;
        }
        case 'URL': {
          const value = unescapeText(textValue(p)).trim();
          if (value) urls.push(value);
          break;
        }
        case 'ADR': {
          const [poBox = '', extended = '', street = '', city = '', region = '', postalCode = '', country = ''] = splitStructured(textValue(p), ';').map((s) => s.trim());
          const label = labelOf(p, groupLabels);
          const address = Object.fromEntries(
            Object.entries({ label: label ?? '', poBox, extended, street, city, region, postalCode, country }).filter(([, v]) => v !== ''),
          );
          if (Object.keys(address).some((k) => k !== 'label')) addresses.push(address);
          break;
        }
        case 'PHOTO': {
          const result = photoOf(p);
          if (result.photo) photo = result.photo;
          if (result.url) contact['photoUrl'] = result.url;
          if (result.warning) pushWarning(warnings, result.warning);
          break;
        }
        default:
          break;
      }
    } catch (err) {
      // A value that cannot be decoded spoils its property; a name that cannot is fatal below.
      pushWarning(warnings, `${(err as Error).message}; dropped`);
    }
  }
  if (Object.keys(name).length > 0) contact['name'] = name;
  if (phones.length > 0) contact['phones'] = phones;
  if (emails.length > 0) contact['emails'] = emails;
  if (urls.length > 0) contact['urls'] = urls;
  if (addresses.length > 0) contact['addresses'] = addresses;
  if (!contact['name'] && phones.length === 0 && emails.length === 0 && !contact['organization']) {
    return fail(warnings.length > 0 ? `no readable name, phone, e-mail or organization (${warnings.join('; ')})` : 'no name, phone, e-mail or organization');
  }
  const id = uid || fallbackId;
  return { ok: true, index, size, contact: { id, ...contact }, ...(photo ? { photo } : {}), warnings };
}

/**
 * Cards without a UID (Android exports) get an id derived from their name, so an edited phone
 * number shows as a changed contact, not as one removed and one added; same-named cards are
 * told apart by their order.
 */
function derivedId(props: Property[], seen: Map<string, number>): string {
  const key = props
    .filter((p) => p.name === 'N' || p.name === 'FN')
    .map((p) => `${p.name}:${p.raw}`)
    .sort()
    .join('\n');
  const base = `vcard-${sha256Hex(new TextEncoder().encode(key || props.map((p) => p.raw).join('\n'))).slice(0, 24)}`;
  const n = (seen.get(base) ?? 0) + 1;
  seen.set(base, n);
  return n === 1 ? base : `${base}-${n}`;
}

/** What a card's lines gave so far while the parser reads it. */
interface OpenCard {
  props: Property[];
  size: number;
  bad: string | null;
  /** The lines of its vCard 2.1 `AGENT:` card, once one began. */
  agent: Property[] | null;
  /** Open `BEGIN:VCARD`s inside the card: 1 in its agent card, more in cards nested in that. */
  depth: number;
  warnings: string[];
}

/** At most this many warnings are listed on one card; the rest are counted. */
const MAX_WARNINGS = 10;

function pushWarning(warnings: string[], warning: string): void {
  if (warnings.length < MAX_WARNINGS) warnings.push(warning);
  else if (warnings.length === MAX_WARNINGS) warnings.push('further warnings not listed');
}

/**
 * A vCard 2.1 `AGENT` card (an assistant, say), kept on its parent as `agent`: the fields a
 * contact has, no id of its own (it is not a contact of the address book) and no photo.
 */
function agentOf(props: Property[], warnings: string[]): Record<string, unknown> | undefined {
  const built = buildContact(props, 0, 0, 'agent');
  if (!built.ok) {
    pushWarning(warnings, `AGENT card has ${built.reason.replace(/^no (readable )?/, 'no ')}; dropped`);
    return undefined;
  }
  const { id: _id, ...agent } = built.contact;
  for (const w of built.warnings) pushWarning(warnings, `AGENT ${w}`);
  if (built.photo) pushWarning(warnings, 'AGENT photo; dropped');
  return agent;
}

const isEmptyAgent = (p: Property | undefined): boolean => p?.name === 'AGENT' && p.raw.trim() === '';

/**
 * Every card in the input, good or bad, in order. Never throws. Linear in the input: no line is
 * read twice, and a card nested in a card is read with its parent (issue 14): vCard 2.1 writes an
 * `AGENT:` property followed by a whole `BEGIN:VCARD` … `END:VCARD` card; that card becomes the
 * parent's `agent` field and the parent keeps its later lines. A `BEGIN:VCARD` anywhere else inside
 * a card means the card never ended.
 */
export function parseVCards(bytes: Uint8Array): ParsedVCard[] {
  const binary = binaryString(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes);
  const lines = contentLines(binary);
  const cards: ParsedVCard[] = [];
  const seen = new Map<string, number>();
  let current: OpenCard | null = null;
  const finish = (card: OpenCard) => {
    const index = cards.length + 1;
    if (card.bad) {
      const uid = card.props.find((p) => p.name === 'UID');
      cards.push({ ok: false, index, size: card.size, sourceId: uid ? uid.raw.trim() : `card:${index}`, reason: card.bad });
      return;
    }
    try {
      const built = buildContact(card.props, index, card.size, derivedId(card.props, seen));
      if (built.ok && card.agent) {
        const agent = agentOf(card.agent, card.warnings);
        if (agent) built.contact['agent'] = agent;
      }
      if (built.ok) for (const w of card.warnings) pushWarning(built.warnings, w);
      cards.push(built);
    } catch (err) {
      cards.push({ ok: false, index, size: card.size, sourceId: `card:${index}`, reason: (err as Error).message });
    }
  };
  for (const line of lines) {
    const size = line.length + 2;
    // Only a short line can be BEGIN or END: a long one is not copied to find out.
    const upper = line.length <= 32 ? line.trim().toUpperCase() : '';
    if (upper === 'BEGIN:VCARD') {
      if (current && current.depth === 0 && !current.agent && isEmptyAgent(current.props[current.props.length - 1])) {
        current.agent = [];
        current.depth = 1;
        current.size += size;
        continue;
      }
      if (current && current.depth > 0) {
        if (current.depth === 1) pushWarning(current.warnings, 'an AGENT card inside an AGENT card; dropped');
        current.depth += 1;
        current.size += size;
        continue;
      }
      if (current) {
        // A card that never ended: record it and start the next one.
        finish({ ...current, bad: current.bad ?? 'truncated: no END:VCARD before the next card' });
      }
      current = { props: [], size, bad: null, agent: null, depth: 0, warnings: [] };
      continue;
    }
    if (!current) continue; // text outside cards is ignored
    current.size += size;
    if (upper === 'END:VCARD') {
      if (current.depth > 0) {
        current.depth -= 1;
        continue;
      }
      finish(current);
      current = null;
      continue;
    }
    if (current.depth > 1) continue;
    const prop = parseProperty(line);
    if (current.depth === 1) {
      if (prop) current.agent?.push(prop);
      continue;
    }
    if (!prop) current.bad ??= `line "${line.slice(0, 40)}" is not a content line`;
    else current.props.push(prop);
  }
  if (current) finish({ ...current, bad: current.bad ?? 'truncated: no END:VCARD' });
  return cards;
}
