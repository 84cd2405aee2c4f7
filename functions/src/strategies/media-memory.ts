/**
 * Whether an image re-encode fits the memory a step has, before any pixel is decoded
 * (docs/media.md, "Memory"). A Cloud Function that runs out of memory is killed mid-step and its
 * task retried into the same death; a refused decode instead keeps the original file, with the
 * reason on its manifest item.
 *
 * The model, measured with sharp 0.35 (libvips 8.18, mozjpeg) at 12 and 48 MP in
 * `npm run bench -- --only=limits` and by hand:
 *
 *   step peak = baseline + 16 MiB (libvips) + 3 × file bytes + held image + encoder
 *
 * - file bytes three times: the chunk as the step holds it, the pieces it was read in (garbage
 *   until V8's next collection) and the output (kept only when smaller than the file).
 *
 * - held images, where the pipeline needs a whole image at once (elsewhere libvips streams strips,
 *   the resize included): an EXIF orientation that turns the image or flips it upside down (3 to
 *   8) holds it at its output size (sharp turns it after the resize), output pixels × channels ×
 *   bytes per sample; WebP input is decoded whole by libwebp, at the scale shrink-on-load gives it;
 *   an interlaced PNG is decoded whole; a progressive JPEG keeps every DCT coefficient of the
 *   full-size image while it decodes (2 bytes per sample).
 * - encoder, per output pixel: mozjpeg (trellis quantisation, optimised progressive scans) keeps
 *   every coefficient, about 6.5 bytes; libwebp about 8; PNG and baseline JPEG stream rows, 0.
 *
 * Against the measurements the sharp part errs high by up to 10 % and low by at most 3 MiB (a
 * 48 MP photo fitted into 2048 px); the 20 % the plan keeps free of the function's memory, and
 * the margin of the baseline, cover that and the step's other garbage.
 *
 * When the best encoder does not fit but a baseline JPEG does (it streams: the same quality, a
 * file about a third larger), that is used; when nothing fits, the original is kept.
 */
import type { MemoryBudget } from './strategy';

const MIB = 1024 * 1024;

// The budget's shape is part of the strategy contract (strategy.ts), which the engine names.
export type { MemoryBudget };

/** Share of the limit a step plans to reach: the margin the `limits` bench holds every function to. */
export const MEMORY_HEADROOM = 0.8;

/**
 * The budget when a runtime gives none: a 256 MiB Cloud Function, whose production module set
 * takes about 105 MiB before any work (measured by the `limits` bench).
 */
export const DEFAULT_MEMORY_BUDGET: MemoryBudget = Object.freeze({ limitBytes: 256 * MIB, baselineBytes: 105 * MIB });

const VIPS_WORKING_BYTES = 16 * MIB;
const MOZJPEG_BYTES_PER_PIXEL = 6.5;
const WEBP_BYTES_PER_PIXEL = 8;

/** What the header says about an image (sharp's `metadata()`). */
export interface ImageFacts {
  format: 'jpeg' | 'png' | 'webp';
  /** As stored, before orientation. */
  width: number;
  height: number;
  channels: number;
  /** 1 for 8-bit samples, 2 for 16-bit. */
  bytesPerSample: number;
  /** EXIF orientation, 1 (or absent) to 8. */
  orientation: number;
  /** A progressive JPEG or an interlaced PNG. */
  progressive: boolean;
  /** Bytes of the file. */
  fileBytes: number;
}

export type ImagePlan =
  | { fits: true; encoder: 'best' | 'baseline-jpeg'; estimateBytes: number }
  | { fits: false; estimateBytes: number; reason: string };

/** The bytes a step may plan for beyond its baseline. */
export function imageAllowance(budget: MemoryBudget): number {
  return Math.max(0, budget.limitBytes * MEMORY_HEADROOM - budget.baselineBytes);
}

const mib = (bytes: number) => Math.ceil(bytes / MIB);

/**
 * Plans a re-encode (auto-orient, fit into `maxDimension` if given, encode in the same format)
 * against a budget; see the module comment for the model.
 */
export function planImageReencode(image: ImageFacts, maxDimension: number | undefined, budget: MemoryBudget): ImagePlan {
  const longest = Math.max(image.width, image.height);
  const shrink = maxDimension !== undefined && longest > maxDimension ? longest / maxDimension : 1;
  const fullPixels = image.width * image.height;
  // The output's size, which is also what libwebp decodes at with shrink-on-load.
  const outputPixels = Math.ceil(image.width / shrink) * Math.ceil(image.height / shrink);
  const sample = image.channels * image.bytesPerSample;
  const turned = image.orientation >= 3 ? outputPixels * sample : 0;
  const decodedWhole = image.format === 'webp' ? outputPixels * sample : image.format === 'png' && image.progressive ? fullPixels * sample : 0;
  const coefficients = image.format === 'jpeg' && image.progressive ? fullPixels * image.channels * 2 : 0;
  const base = VIPS_WORKING_BYTES + 3 * image.fileBytes + turned + decodedWhole + coefficients;
  const encoder = image.format === 'jpeg' ? outputPixels * MOZJPEG_BYTES_PER_PIXEL : image.format === 'webp' ? outputPixels * WEBP_BYTES_PER_PIXEL : 0;
  const allowance = imageAllowance(budget);
  if (base + encoder <= allowance) return { fits: true, encoder: 'best', estimateBytes: base + encoder };
  if (image.format === 'jpeg' && base <= allowance) return { fits: true, encoder: 'baseline-jpeg', estimateBytes: base };
  const estimate = image.format === 'jpeg' ? base : base + encoder;
  const megapixels = ((image.width * image.height) / 1e6).toFixed(1);
  return {
    fits: false,
    estimateBytes: estimate,
    reason: `original kept: re-encoding ${image.width} x ${image.height} (${megapixels} MP) needs about ${mib(estimate)} MiB, ` +
      `over the ${mib(allowance)} MiB left for images of ${mib(budget.limitBytes)} MiB memory` +
      (maxDimension === undefined ? ' (a maxImageDimension would make it smaller)' : ''),
  };
}
