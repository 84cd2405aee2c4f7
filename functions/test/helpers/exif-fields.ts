/**
 * A small EXIF reader for tests, written apart from the code under test (location-strip.ts): the
 * fields a photo library needs (camera, capture date and offset, orientation) and the GPS IFD, read
 * from the EXIF block sharp's `metadata().exif` returns (`Exif\0\0` then TIFF).
 */
export interface ExifFields {
  make?: string;
  model?: string;
  orientation?: number;
  dateTimeOriginal?: string;
  offsetTime?: string;
  offsetTimeOriginal?: string;
  /** True when IFD0 points at a GPS IFD. */
  hasGps: boolean;
  /** GPSLatitude as `n/d n/d n/d`, when present. */
  gpsLatitude?: string;
}

const TYPE_BYTES = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];

export function readExifFields(exif: Uint8Array | undefined): ExifFields {
  if (!exif) return { hasGps: false };
  const buf = Buffer.from(exif.buffer, exif.byteOffset, exif.byteLength);
  const tiff = buf.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? buf.subarray(6) : buf;
  const little = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd = (offset: number): Map<number, { type: number; count: number; at: number }> => {
    const out = new Map<number, { type: number; count: number; at: number }>();
    const n = u16(offset);
    for (let i = 0; i < n; i++) {
      const e = offset + 2 + i * 12;
      const type = u16(e + 2);
      const count = u32(e + 4);
      const bytes = (TYPE_BYTES[type] ?? 1) * count;
      out.set(u16(e), { type, count, at: bytes <= 4 ? e + 8 : u32(e + 8) });
    }
    return out;
  };
  const text = (entries: Map<number, { type: number; count: number; at: number }>, tag: number) => {
    const e = entries.get(tag);
    return e ? tiff.toString('latin1', e.at, e.at + e.count).replace(/\0+$/, '') : undefined;
  };
  const ifd0 = ifd(u32(4));
  const fields: ExifFields = { hasGps: ifd0.has(0x8825) };
  const make = text(ifd0, 0x010f);
  const model = text(ifd0, 0x0110);
  if (make !== undefined) fields.make = make;
  if (model !== undefined) fields.model = model;
  const orientation = ifd0.get(0x0112);
  if (orientation) fields.orientation = u16(orientation.at);
  const exifPointer = ifd0.get(0x8769);
  if (exifPointer) {
    const sub = ifd(u32(exifPointer.at));
    const original = text(sub, 0x9003);
    const offset = text(sub, 0x9010);
    const offsetOriginal = text(sub, 0x9011);
    if (original !== undefined) fields.dateTimeOriginal = original;
    if (offset !== undefined) fields.offsetTime = offset;
    if (offsetOriginal !== undefined) fields.offsetTimeOriginal = offsetOriginal;
  }
  const gpsPointer = ifd0.get(0x8825);
  if (gpsPointer) {
    const gps = ifd(u32(gpsPointer.at));
    const latitude = gps.get(0x0002);
    if (latitude) {
      const parts: string[] = [];
      for (let i = 0; i < latitude.count; i++) parts.push(`${u32(latitude.at + i * 8)}/${u32(latitude.at + i * 8 + 4)}`);
      fields.gpsLatitude = parts.join(' ');
    }
  }
  return fields;
}

/** The fields a library keeps across a re-encode (everything but orientation and GPS). */
export function libraryFields(fields: ExifFields): Pick<ExifFields, 'make' | 'model' | 'dateTimeOriginal' | 'offsetTime' | 'offsetTimeOriginal'> {
  const { make, model, dateTimeOriginal, offsetTime, offsetTimeOriginal } = fields;
  return { make, model, dateTimeOriginal, offsetTime, offsetTimeOriginal } as ReturnType<typeof libraryFields>;
}
