/**
 * Media: one file per chunk, in the `LBM1` envelope (see media-envelope.ts and docs/media.md), in
 * one of two modes. `original` stores every file byte for byte. `storageSaver` auto-orients JPEG,
 * PNG and WebP images (recognized by their bytes, then confirmed by sharp) and re-encodes them,
 * keeping their metadata (capture date and offset, camera, colour profile, XMP, location) and the
 * original when the re-encode is not smaller or would not fit the step's memory (planned before
 * any decode, media-memory.ts). With `stripLocation` the GPS location is then removed from the
 * stored file and nothing else (location-strip.ts). Everything else (videos, audio, documents,
 * GIF, HEIC) is stored as it is. The envelope's name, type, times and album go on the item
 * (`meta`). A bad file never fails the chunk: it is skipped with a reason or stored as the
 * original with a warning.
 */
import sharp from 'sharp';
import { mediaModeOf } from '../core/media-mode';
import type { BackupOptions, ItemMeta, ManifestItem } from '../core/model';
import { stripLocation, type LocationContainer } from './location-strip';
import { decodeMediaEnvelope, mediaMetaOf } from './media-envelope';
import { DEFAULT_MEMORY_BUDGET, planImageReencode, type MemoryBudget } from './media-memory';
import type { Strategy, StrategyContext } from './strategy';

// libvips defaults to one thread per core and a cache of recent operations and their pixels; in
// a 256 MB function that multiplies peak RSS by the core count and keeps decoded images alive
// after use. One thread, no cache: one image's pixels in memory at a time.
sharp.concurrency(1);
sharp.cache(false);

// Tasks of one process may run side by side (the embedded runtime runs two; a Cloud Function
// instance one): their decodes take turns, so one image's pixels are in memory per process.
let imageTurn: Promise<unknown> = Promise.resolve();
function oneImageAtATime<T>(work: () => Promise<T>): Promise<T> {
  const mine = imageTurn.then(work, work);
  imageTurn = mine.catch(() => undefined);
  return mine;
}

/** Images with more pixels than this are refused before any decode (a pixel bomb). */
export const MAX_INPUT_PIXELS = 100_000_000;

const MIB = 1024 * 1024;

/** What the first bytes say a file is; only these image kinds are ever handed to a decoder. */
export type SniffedKind = 'jpeg' | 'png' | 'webp' | 'heic' | null;

const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

const ascii = (bytes: Uint8Array, from: number, to: number): string =>
  String.fromCharCode(...bytes.subarray(from, Math.min(to, bytes.byteLength)));

/** Recognizes the image formats this strategy treats specially by their signature bytes. */
export function sniffMedia(bytes: Uint8Array): SniffedKind {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (ascii(bytes, 0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  if (bytes.byteLength >= 16 && ascii(bytes, 4, 8) === 'ftyp') {
    // ISO BMFF: the major brand, then compatible brands up to the end of the ftyp box.
    const boxSize = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, false);
    const end = Math.min(Math.max(boxSize, 16), bytes.byteLength, 256);
    const brands = [ascii(bytes, 8, 12)];
    for (let at = 16; at + 4 <= end; at += 4) brands.push(ascii(bytes, at, at + 4));
    if (brands.some((b) => AVIF_BRANDS.has(b))) return null;
    if (brands.some((b) => HEIC_BRANDS.has(b)) || brands[0] === 'mif1' || brands[0] === 'msf1') return 'heic';
  }
  return null;
}

/** ISO BMFF brands of still images (HEIF: HEIC and AVIF), whose `Exif` item may hold a location. */
const HEIF_BRANDS = new Set([...HEIC_BRANDS, ...AVIF_BRANDS, 'mif1', 'msf1']);

/**
 * Where a file keeps its location, when this strategy can take it out (see location-strip.ts);
 * `unsupported` for files that may carry one it cannot edit (videos, TIFF), null for the rest.
 */
function locationContainerOf(bytes: Uint8Array, kind: SniffedKind): LocationContainer | 'unsupported' | null {
  if (kind === 'jpeg' || kind === 'png' || kind === 'webp') return kind;
  if (kind === 'heic') return 'heif';
  if (bytes.byteLength >= 12 && ascii(bytes, 4, 8) === 'ftyp') {
    const boxSize = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, false);
    const end = Math.min(Math.max(boxSize, 16), bytes.byteLength, 256);
    const brands = [ascii(bytes, 8, 12)];
    for (let at = 16; at + 4 <= end; at += 4) brands.push(ascii(bytes, at, at + 4));
    return brands.some((b) => HEIF_BRANDS.has(b)) ? 'heif' : 'unsupported';
  }
  const tiff = ascii(bytes, 0, 4);
  return tiff === 'II*\0' || tiff === 'MM\0*' ? 'unsupported' : null;
}

type Outcome =
  | { bytes: Uint8Array; transforms: string[]; warning?: string }
  | { skipReason: string };

type Stored = Extract<Outcome, { bytes: Uint8Array }>;

const asIs = (body: Uint8Array, warning?: string): Outcome => ({
  bytes: body,
  transforms: ['stored as is'],
  ...(warning !== undefined ? { warning } : {}),
});

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

const joinWarnings = (...warnings: Array<string | undefined>): string | undefined => {
  const present = warnings.filter((w): w is string => w !== undefined && w !== '');
  return present.length > 0 ? present.join('; ') : undefined;
};

async function reencodeImage(body: Uint8Array, kind: 'jpeg' | 'png' | 'webp', options: BackupOptions, memory: MemoryBudget): Promise<Outcome> {
  let meta: sharp.Metadata;
  try {
    // Reads the header only; the pixel limit is checked below, so none is needed here.
    meta = await sharp(body, { limitInputPixels: false }).metadata();
  } catch (err) {
    return { bytes: body, transforms: ['stored as is'], warning: `corrupt image stored as original: ${message(err)}` };
  }
  if (meta.format !== kind || (meta.pages ?? 1) > 1) {
    // An animation (re-encoding would keep one frame) or bytes sharp reads as something else.
    return asIs(body);
  }
  if (meta.width * meta.height > MAX_INPUT_PIXELS) {
    // Never decoded, whatever the memory: the file is kept as the device sent it.
    return { bytes: body, transforms: ['original kept: not decoded'], warning: `original kept: ${meta.width} x ${meta.height} pixels is over the ${MAX_INPUT_PIXELS / 1e6} MP any decode may have` };
  }
  const quality = options.mediaQuality;
  const max = options.maxImageDimension;
  const resized = max !== undefined && Math.max(meta.width, meta.height) > max;
  const plan = planImageReencode({
    format: kind,
    width: meta.width,
    height: meta.height,
    channels: meta.channels,
    bytesPerSample: meta.depth === 'ushort' ? 2 : 1,
    orientation: meta.orientation ?? 1,
    progressive: meta.isProgressive === true,
    fileBytes: body.byteLength,
  }, max, memory);
  if (!plan.fits) return { bytes: body, transforms: ['original kept: not decoded'], warning: plan.reason };
  let out: Buffer;
  try {
    // keepMetadata: EXIF (capture date and offset, camera, location), the ICC profile, XMP and
    // IPTC go to the output as they were, except the EXIF orientation, which rotate() resets to 1
    // once it has turned the pixels upright.
    const pipeline = sharp(body, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS }).rotate().keepMetadata();
    // After rotate(), so the box applies to the upright image; `inside` keeps the aspect ratio.
    // Shrink-on-load (libjpeg's DCT scaling, libwebp's scaled decode) is what the memory plan counts on.
    if (resized) pipeline.resize({ width: max, height: max, fit: 'inside', withoutEnlargement: true, fastShrinkOnLoad: true });
    // mozjpeg keeps every coefficient of the image; a baseline JPEG streams rows (media-memory.ts).
    if (kind === 'jpeg') pipeline.jpeg(plan.encoder === 'best' ? { quality, mozjpeg: true } : { quality, optimiseCoding: false });
    else if (kind === 'webp') pipeline.webp({ quality });
    else pipeline.png({ compressionLevel: 9 });
    out = await oneImageAtATime(() => pipeline.toBuffer());
  } catch (err) {
    return { bytes: body, transforms: ['stored as is'], warning: `corrupt image stored as original: ${message(err)}` };
  }
  if (out.byteLength >= body.byteLength) return { bytes: body, transforms: ['original kept: re-encode not smaller'] };
  const encoded = kind === 'png' ? 'png level 9' : `${kind} q${quality}`;
  const oriented = meta.orientation !== undefined && meta.orientation !== 1 ? ['auto-oriented'] : [];
  const fitted = resized ? [`resized to fit ${max} px`] : [];
  const encoder = plan.encoder === 'baseline-jpeg' ? ['baseline encoder (memory)'] : [];
  return {
    bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength),
    transforms: [...oriented, ...fitted, encoded, ...encoder, 'metadata kept'],
  };
}

/** The largest media file the options let a backup store, in bytes. */
export function maxMediaBytes(options: Pick<BackupOptions, 'maxMediaSizeMB'>): number {
  return options.maxMediaSizeMB * MIB;
}

/** With `stripLocation`: the stored file without its GPS location (location-strip.ts). */
function withoutLocation(outcome: Stored, original: Uint8Array, kind: SniffedKind): Stored {
  const container = locationContainerOf(outcome.bytes, kind);
  if (container === null) return outcome;
  if (container === 'unsupported') {
    return { ...outcome, warning: joinWarnings(outcome.warning, 'location not removed: this file type is stored as it is') as string };
  }
  const stripped = stripLocation(outcome.bytes, container);
  if (stripped.removed.length === 0 && stripped.bytes === outcome.bytes) {
    return stripped.warning === undefined ? outcome : { ...outcome, warning: joinWarnings(outcome.warning, stripped.warning) as string };
  }
  // A file kept as it came is no longer byte for byte the device's: its transform says so.
  const transforms = outcome.bytes === original ? outcome.transforms.filter((t) => t !== 'stored as is') : outcome.transforms;
  const warning = joinWarnings(outcome.warning, stripped.warning);
  return { bytes: stripped.bytes, transforms: [...transforms, 'location removed'], ...(warning !== undefined ? { warning } : {}) };
}

async function decide(body: Uint8Array, options: BackupOptions, memory: MemoryBudget): Promise<Outcome> {
  if (body.byteLength > maxMediaBytes(options)) return { skipReason: `larger than ${options.maxMediaSizeMB} MB` };
  const kind = sniffMedia(body);
  let outcome: Outcome;
  if (mediaModeOf(options) === 'original') outcome = asIs(body);
  else if (kind === 'heic') outcome = asIs(body, 'HEIC stored as original (no decoder)');
  else if (kind === null) outcome = asIs(body);
  else outcome = await reencodeImage(body, kind, options, memory);
  if ('skipReason' in outcome || !options.stripLocation) return outcome;
  return withoutLocation(outcome, body, kind);
}

/**
 * A part of a file over 16 MiB (docs/media.md, "Large files"): no image decoder sees part of a
 * file, so it is stored as is; the size limit applies to the whole file. A part with no bytes of
 * a non-empty file is the device saying it did not send a file over its limit.
 */
function decideSegment(body: Uint8Array, segment: { index: number; fileSize: number }, options: BackupOptions): Outcome {
  if (segment.fileSize > maxMediaBytes(options)) return { skipReason: `larger than ${options.maxMediaSizeMB} MB` };
  if (body.byteLength === 0 && segment.fileSize > 0) return { skipReason: 'not sent: over the device\'s maxMediaSizeMB' };
  // A location in a file this large (a video) is not edited: said once, on the first part.
  const located = options.stripLocation && segment.index === 0 && locationContainerOf(body, sniffMedia(body)) !== null;
  return asIs(body, located ? 'location not removed: files over 16 MiB are stored in parts as they are' : undefined);
}

/** What the envelope said about a file besides its bytes: `meta`, and the fields it had to drop. */
export interface MediaDescription {
  meta?: ItemMeta | undefined;
  /** Fields of the header dropped as invalid (media-envelope.ts `mediaMetaOf`). */
  warnings?: readonly string[];
}

/** The item fields every outcome shares: the file's meta and every warning. */
function described(outcome: { warning?: string }, description: MediaDescription): Pick<ManifestItem, 'meta' | 'warning'> {
  const warning = joinWarnings(outcome.warning, ...(description.warnings ?? []));
  return { ...(description.meta ? { meta: description.meta } : {}), ...(warning !== undefined ? { warning } : {}) };
}

/** Stores one part of a large file as is; the item carries its segment so restore can join the parts. */
async function storeMediaPart(
  body: Uint8Array,
  sourceId: string,
  segment: { index: number; offset: number; fileSize: number },
  { uid, options, content, signal }: Pick<StrategyContext, 'uid' | 'options' | 'content' | 'signal'>,
  description: MediaDescription,
): Promise<ManifestItem> {
  // An empty part stands for a whole file the device did not send (see decideSegment).
  const base = { type: 'media' as const, sourceId, originalSize: body.byteLength === 0 ? segment.fileSize : body.byteLength, segment };
  const outcome = decideSegment(body, segment, options);
  if ('skipReason' in outcome) return { ...base, blob: null, storedSize: 0, transforms: [], skipReason: outcome.skipReason, ...described({}, description) };
  const stored = await content.put(uid, outcome.bytes, { compress: false, ...(signal ? { signal } : {}) });
  return { ...base, blob: stored.hash, blobSize: stored.size, storedSize: stored.storedSize, transforms: outcome.transforms, ...described(outcome, description) };
}

/**
 * Runs one file through the media pipeline (size cap, mode, location, store) and describes it as
 * a manifest item. Shared by device uploads and media the chats strategy fetches for messages.
 */
export async function storeMediaFile(
  body: Uint8Array,
  sourceId: string,
  { uid, options, content, signal, memory }: Pick<StrategyContext, 'uid' | 'options' | 'content' | 'signal' | 'memory'>,
  description: MediaDescription = {},
): Promise<ManifestItem> {
  const base = { type: 'media' as const, sourceId, originalSize: body.byteLength };
  const outcome = await decide(body, options, memory ?? DEFAULT_MEMORY_BUDGET);
  if ('skipReason' in outcome) return { ...base, blob: null, storedSize: 0, transforms: [], skipReason: outcome.skipReason, ...described({}, description) };
  // Media is compressed already: gzip would spend CPU for next to nothing.
  const stored = await content.put(uid, outcome.bytes, { compress: false, ...(signal ? { signal } : {}) });
  return {
    ...base,
    blob: stored.hash,
    blobSize: stored.size,
    storedSize: stored.storedSize,
    transforms: outcome.transforms,
    ...described(outcome, description),
  };
}

export const mediaStrategy: Strategy = {
  type: 'media',
  // Every option that changes what is stored is in the key (docs/invariants.md, "Dedup"). The
  // `2` keys began with modes and `meta`: a result indexed under a `v1` key has no `meta`, so
  // those chunks are processed again rather than answered from the old index.
  strategyKey: (options) => {
    const location = options.stripLocation ? ':nogps' : '';
    if (mediaModeOf(options) === 'original') return `o2:m${options.maxMediaSizeMB}${location}`;
    const dimension = options.maxImageDimension !== undefined ? `:d${options.maxImageDimension}` : '';
    return `s2:q${options.mediaQuality}:m${options.maxMediaSizeMB}${dimension}${location}`;
  },
  async processChunk(bytes: Uint8Array, context: StrategyContext): Promise<ManifestItem[]> {
    const envelope = decodeMediaEnvelope(bytes);
    if (!envelope.ok) {
      return [{
        type: 'media', sourceId: envelope.sourceId ?? 'chunk', blob: null, originalSize: bytes.byteLength, storedSize: 0,
        transforms: [], skipReason: envelope.reason,
      }];
    }
    const { header, body } = envelope;
    const description = mediaMetaOf(header);
    if (header.segment) return [await storeMediaPart(body, header.sourceId, header.segment, context, description)];
    return [await storeMediaFile(body, header.sourceId, context, description)];
  },
};
