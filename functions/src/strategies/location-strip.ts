/**
 * Removes the GPS location from an image file and nothing else (`stripLocation`, docs/media.md):
 * no pixel is decoded and no byte moves, so every other byte of the file stays as it was.
 *
 * - EXIF (JPEG `APP1`, PNG `eXIf`, WebP `EXIF`, the `Exif` item of a HEIF/HEIC/AVIF file): the
 *   GPS IFD's pointer is taken out of IFD0 (the entries after it move up, the freed bytes are
 *   zeroed) and the GPS IFD with every value it points to is zeroed, so no reader finds it and
 *   no byte of it is left to recover.
 * - XMP (JPEG, PNG `iTXt`, WebP `XMP `): every `GPS…` property (`exif:GPSLatitude="…"` or the
 *   element form) is overwritten with spaces, which XML reads as whitespace, so the packet keeps
 *   its length and stays well formed.
 *
 * Lengths never change, so no offset elsewhere in the file needs fixing; PNG chunk CRCs are
 * recomputed. EXIF that cannot be read (a truncated or looping IFD) is zeroed whole, since the
 * location may be in it: privacy over completeness, with a warning naming what went.
 */
import { crc32 } from 'node:zlib';

/** The containers this module edits; anything else keeps its bytes (and any location it has). */
export type LocationContainer = 'jpeg' | 'png' | 'webp' | 'heif';

export interface LocationStripResult {
  /** The file without its location: the same array when nothing was removed, else a copy. */
  bytes: Uint8Array;
  /** What was removed (`EXIF GPS`, `XMP GPS`); empty when the file had no location. */
  removed: string[];
  /** Set when some metadata could not be read and went whole, or could not be edited. */
  warning?: string;
}

const GPS_IFD_POINTER = 0x8825;
/** Bytes per value of each TIFF field type (1..13); unknown types are treated as inline only. */
const TYPE_BYTES = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];

type TiffOutcome = 'removed' | 'none' | 'unreadable';

/** Removes the GPS IFD from a TIFF structure (an EXIF block) in place. */
export function stripTiffGps(tiff: Uint8Array): TiffOutcome {
  if (tiff.byteLength < 8) return 'unreadable';
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return 'unreadable';
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const inside = (at: number, length: number) => at >= 0 && length >= 0 && at + length <= tiff.byteLength;
  const u16 = (at: number) => view.getUint16(at, little);
  const u32 = (at: number) => view.getUint32(at, little);
  if (u16(2) !== 42) return 'unreadable';
  const ifd0 = u32(4);
  if (!inside(ifd0, 2)) return 'unreadable';
  const count = u16(ifd0);
  // The entries and the next-IFD offset after them.
  if (!inside(ifd0 + 2, count * 12 + 4)) return 'unreadable';
  let pointer = -1;
  for (let i = 0; i < count; i++) {
    if (u16(ifd0 + 2 + i * 12) === GPS_IFD_POINTER) pointer = i;
  }
  if (pointer < 0) return 'none';
  const entry = ifd0 + 2 + pointer * 12;
  const gps = u32(entry + 8);
  // The pointer leaves IFD0 first: whatever the GPS IFD looks like, no reader reaches it again.
  const end = ifd0 + 2 + count * 12 + 4;
  tiff.copyWithin(entry, entry + 12, end);
  tiff.fill(0, end - 12, end);
  view.setUint16(ifd0, count - 1, little);
  if (!inside(gps, 2)) return 'unreadable';
  const gpsCount = u16(gps);
  if (!inside(gps + 2, gpsCount * 12)) return 'unreadable';
  let readable = true;
  for (let i = 0; i < gpsCount; i++) {
    const at = gps + 2 + i * 12;
    const type = u16(at + 2);
    const bytes = (TYPE_BYTES[type] ?? 0) * u32(at + 4);
    if (bytes <= 4) continue;
    const value = u32(at + 8);
    if (inside(value, bytes)) tiff.fill(0, value, value + bytes);
    else readable = false;
  }
  // The entries and the next-IFD offset (0 for the GPS IFD), when it fits.
  tiff.fill(0, gps, Math.min(gps + 2 + gpsCount * 12 + 4, tiff.byteLength));
  return readable ? 'removed' : 'unreadable';
}

const XMP_GPS_ATTRIBUTE = /\s[A-Za-z_][\w.-]*:GPS[A-Za-z]*\s*=\s*(?:"[^"]*"|'[^']*')/g;
const XMP_GPS_ELEMENT = /<([A-Za-z_][\w.-]*):(GPS[A-Za-z]*)\b(?:[^>]*\/>|[^>]*>[\s\S]*?<\/\1:\2\s*>)/g;

/** Overwrites every XMP `GPS…` property with spaces, in place; true when any was found. */
export function stripXmpGps(xmp: Uint8Array): boolean {
  // latin1: one character per byte, so match positions are byte offsets.
  const text = Buffer.from(xmp.buffer, xmp.byteOffset, xmp.byteLength).toString('latin1');
  let found = false;
  for (const pattern of [XMP_GPS_ATTRIBUTE, XMP_GPS_ELEMENT]) {
    for (const match of text.matchAll(pattern)) {
      xmp.fill(0x20, match.index, match.index + match[0].length);
      found = true;
    }
  }
  return found;
}

const ascii = (bytes: Uint8Array, from: number, length: number): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset + from, Math.max(0, Math.min(length, bytes.byteLength - from))).toString('latin1');

const EXIF_HEADER = 'Exif\0\0';
const XMP_HEADER = 'http://ns.adobe.com/xap/1.0/\0';
const XMP_EXTENSION_HEADER = 'http://ns.adobe.com/xmp/extension/\0';

/** Collects what one file's blocks gave up, copying the file before its first change. */
class Edit {
  private copy: Uint8Array | null = null;
  readonly removed = new Set<string>();
  readonly unreadable = new Set<string>();

  constructor(private readonly original: Uint8Array) {}

  /** The bytes to edit: a copy of the original, made once. */
  get bytes(): Uint8Array {
    this.copy ??= new Uint8Array(this.original);
    return this.copy;
  }

  /** The file as it will be: the copy when anything changed, else the original. */
  get result(): Uint8Array {
    return this.copy ?? this.original;
  }

  exif(from: number, length: number): void {
    const tiff = this.original.subarray(from, from + length);
    // Looked at on the original first, so a file without GPS is never copied.
    const probe = stripTiffGps(new Uint8Array(tiff));
    if (probe === 'none') return;
    const target = this.bytes.subarray(from, from + length);
    if (probe === 'removed') {
      stripTiffGps(target);
      this.removed.add('EXIF GPS');
    } else {
      target.fill(0);
      this.unreadable.add('EXIF');
    }
  }

  xmp(from: number, length: number): boolean {
    if (!stripXmpGps(new Uint8Array(this.original.subarray(from, from + length)))) return false;
    stripXmpGps(this.bytes.subarray(from, from + length));
    this.removed.add('XMP GPS');
    return true;
  }

  finish(warning?: string): LocationStripResult {
    const warnings = [
      ...(this.unreadable.size > 0 ? [`unreadable ${[...this.unreadable].join(' and ')} removed whole (it may have held the location)`] : []),
      ...(warning ? [warning] : []),
    ];
    return { bytes: this.result, removed: [...this.removed], ...(warnings.length > 0 ? { warning: warnings.join('; ') } : {}) };
  }
}

function stripJpeg(edit: Edit, bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 2;
  while (at + 4 <= bytes.byteLength) {
    if (bytes[at] !== 0xff) return 'JPEG markers unreadable after byte ' + at;
    const marker = bytes[at + 1] as number;
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    // Metadata comes before the image data.
    if (marker === 0xda || marker === 0xd9) return undefined;
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    const length = view.getUint16(at + 2, false);
    const start = at + 4;
    const end = at + 2 + length;
    if (length < 2 || end > bytes.byteLength) return 'JPEG segment past the end of the file';
    if (marker === 0xe1) {
      if (ascii(bytes, start, EXIF_HEADER.length) === EXIF_HEADER) edit.exif(start + 6, end - start - 6);
      else if (ascii(bytes, start, XMP_HEADER.length) === XMP_HEADER) edit.xmp(start + XMP_HEADER.length, end - start - XMP_HEADER.length);
      // Extended XMP: a GUID, the full length and this part's offset, then a slice of the packet.
      else if (ascii(bytes, start, XMP_EXTENSION_HEADER.length) === XMP_EXTENSION_HEADER) edit.xmp(start + XMP_EXTENSION_HEADER.length + 40, end - start - XMP_EXTENSION_HEADER.length - 40);
    }
    at = end;
  }
  return undefined;
}

function stripPng(edit: Edit, bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let warning: string | undefined;
  for (let at = 8; at + 12 <= bytes.byteLength; ) {
    const length = view.getUint32(at, false);
    const type = ascii(bytes, at + 4, 4);
    const data = at + 8;
    if (data + length + 4 > bytes.byteLength) return 'PNG chunk past the end of the file';
    const before = edit.removed.size + edit.unreadable.size;
    if (type === 'eXIf') edit.exif(data, length);
    else if (type === 'iTXt' && ascii(bytes, data, 18) === 'XML:com.adobe.xmp\0') {
      // keyword\0, compression flag, method, language\0, translated keyword\0, text
      const flag = bytes[data + 18];
      let text = data + 20;
      for (let nulls = 0; text < data + length && nulls < 2; text++) if (bytes[text] === 0) nulls++;
      if (flag === 0) edit.xmp(text, data + length - text);
      else warning = 'compressed PNG XMP left as it is';
    }
    if (edit.removed.size + edit.unreadable.size !== before) {
      const out = edit.bytes;
      new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(data + length, crc32(out.subarray(at + 4, data + length)), false);
    }
    if (type === 'IEND') break;
    at = data + length + 4;
  }
  return warning;
}

function stripWebp(edit: Edit, bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 12; at + 8 <= bytes.byteLength; ) {
    const type = ascii(bytes, at, 4);
    const length = view.getUint32(at + 4, true);
    const data = at + 8;
    if (data + length > bytes.byteLength) return 'WebP chunk past the end of the file';
    if (type === 'EXIF') {
      const skip = ascii(bytes, data, 6) === EXIF_HEADER ? 6 : 0;
      edit.exif(data + skip, length - skip);
    } else if (type === 'XMP ') edit.xmp(data, length);
    at = data + length + (length % 2);
  }
  return undefined;
}

interface Box {
  type: string;
  /** Where the box's content starts (after its header), and where the box ends. */
  start: number;
  end: number;
}

function* boxes(bytes: Uint8Array, from: number, to: number): Generator<Box> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = from; at + 8 <= to; ) {
    let size = view.getUint32(at, false);
    let header = 8;
    if (size === 1) {
      if (at + 16 > to) return;
      size = Number(view.getBigUint64(at + 8, false));
      header = 16;
    } else if (size === 0) size = to - at;
    if (size < header || at + size > to) return;
    yield { type: ascii(bytes, at + 4, 4), start: at + header, end: at + size };
    at += size;
  }
}

/** The `Exif` item of a HEIF file (HEIC, AVIF): found through `meta`'s `iinf` and `iloc` boxes. */
function stripHeif(edit: Edit, bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const meta = [...boxes(bytes, 0, bytes.byteLength)].find((b) => b.type === 'meta');
  if (!meta) return undefined;
  // A full box: version and flags first.
  const children = [...boxes(bytes, meta.start + 4, meta.end)];
  const iinf = children.find((b) => b.type === 'iinf');
  const iloc = children.find((b) => b.type === 'iloc');
  const idat = children.find((b) => b.type === 'idat');
  if (!iinf || !iloc) return undefined;
  const exifItems = new Set<number>();
  const iinfVersion = bytes[iinf.start] as number;
  for (const infe of boxes(bytes, iinf.start + 4 + (iinfVersion === 0 ? 2 : 4), iinf.end)) {
    if (infe.type !== 'infe') continue;
    const version = bytes[infe.start] as number;
    if (version < 2) continue;
    const id = version === 2 ? view.getUint16(infe.start + 4, false) : view.getUint32(infe.start + 4, false);
    const typeAt = infe.start + 4 + (version === 2 ? 2 : 4) + 2;
    if (ascii(bytes, typeAt, 4) === 'Exif') exifItems.add(id);
  }
  if (exifItems.size === 0) return undefined;
  const version = bytes[iloc.start] as number;
  let at = iloc.start + 4;
  const sizes = (bytes[at] as number) << 8 | (bytes[at + 1] as number);
  const offsetSize = sizes >> 12;
  const lengthSize = (sizes >> 8) & 15;
  const baseSize = (sizes >> 4) & 15;
  const indexSize = version === 1 || version === 2 ? sizes & 15 : 0;
  at += 2;
  const uint = (size: number): number => {
    const value = size === 0 ? 0 : size === 4 ? view.getUint32(at, false) : size === 8 ? Number(view.getBigUint64(at, false)) : Number.NaN;
    at += size;
    return value;
  };
  const itemCount = version < 2 ? view.getUint16(at, false) : view.getUint32(at, false);
  at += version < 2 ? 2 : 4;
  let warning: string | undefined;
  for (let i = 0; i < itemCount && at < iloc.end; i++) {
    const id = version < 2 ? view.getUint16(at, false) : view.getUint32(at, false);
    at += version < 2 ? 2 : 4;
    const method = version === 1 || version === 2 ? view.getUint16(at, false) & 15 : 0;
    if (version === 1 || version === 2) at += 2;
    at += 2; // data_reference_index
    const base = uint(baseSize);
    const extents = view.getUint16(at, false);
    at += 2;
    const found: Array<{ offset: number; length: number }> = [];
    for (let e = 0; e < extents; e++) {
      uint(indexSize);
      const offset = uint(offsetSize);
      const length = uint(lengthSize);
      found.push({ offset, length });
    }
    if (!exifItems.has(id)) continue;
    const origin = method === 0 ? 0 : method === 1 && idat ? idat.start : Number.NaN;
    const extent = found[0];
    if (found.length !== 1 || !extent || !Number.isFinite(origin) || Number.isNaN(base + extent.offset + extent.length)) {
      warning = 'HEIF Exif item stored in a way this reader does not follow; location kept';
      continue;
    }
    const from = origin + base + extent.offset;
    if (from + extent.length > bytes.byteLength || extent.length < 4) {
      warning = 'HEIF Exif item past the end of the file; location kept';
      continue;
    }
    // The item starts with the offset of the TIFF header within the rest of it.
    const tiffAt = from + 4 + view.getUint32(from, false);
    if (tiffAt >= from + extent.length) continue;
    edit.exif(tiffAt, from + extent.length - tiffAt);
  }
  return warning;
}

/**
 * Removes the GPS location of one file (see the module comment). Never throws: a structure it
 * cannot follow leaves the file as it is, with a warning saying so.
 */
export function stripLocation(bytes: Uint8Array, container: LocationContainer): LocationStripResult {
  const edit = new Edit(bytes);
  let warning: string | undefined;
  try {
    warning =
      container === 'jpeg' ? stripJpeg(edit, bytes) : container === 'png' ? stripPng(edit, bytes) : container === 'webp' ? stripWebp(edit, bytes) : stripHeif(edit, bytes);
  } catch (err) {
    // A DataView read past the end: the structure lied about a length.
    warning = `metadata unreadable (${err instanceof Error ? err.message : String(err)})`;
  }
  return edit.finish(warning === undefined ? undefined : `location may be kept: ${warning}`);
}
