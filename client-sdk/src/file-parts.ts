/**
 * The parts of a large file must make exactly one file: numbered 0..n-1, each starting where the
 * one before ends, all agreeing on the file's size, each as long as the plan says, the last ending
 * at the file's size. The SDK checks a file part by part as the plan's pages arrive (a file may
 * span two pages), so a bad file fails instead of reaching the sink with the wrong bytes.
 *
 * The same rules as functions/src/core/snapshots/file-parts.ts (which checks a whole manifest at
 * once for verify and the folder restore); the SDK ships without the functions package, so it
 * cannot import them. Keep the two in step.
 */

export interface PartSegment {
  index: number;
  offset: number;
  fileSize: number;
}

/** Where the next part of a file must start; null before its first part. */
export type NextPart = PartSegment | null;

/**
 * Why `segment` (a part of `length` bytes, `declared` in the plan) does not continue a file whose
 * next part is `next`, or null when it does.
 */
export function partProblem(next: NextPart, segment: PartSegment, length: number, declared: number): string | null {
  if (length !== declared) return `part ${segment.index} has ${length} bytes, the plan says ${declared}`;
  const expected = next ?? { index: 0, offset: 0, fileSize: segment.fileSize };
  if (segment.fileSize !== expected.fileSize) return `its parts disagree on the file's size (${expected.fileSize} and ${segment.fileSize} bytes)`;
  if (segment.index !== expected.index) {
    return segment.index < expected.index ? `part ${segment.index} appears more than once` : `part ${expected.index} is missing`;
  }
  if (segment.offset > expected.offset) return `bytes ${expected.offset}..${segment.offset - 1} are missing: part ${segment.index} starts at ${segment.offset}`;
  if (segment.offset < expected.offset) return `part ${segment.index} at ${segment.offset} overlaps the part before it, which ends at ${expected.offset}`;
  if (segment.offset + length > segment.fileSize) return `its parts run to ${segment.offset + length}, past the file's ${segment.fileSize} bytes`;
  return null;
}

/** Why a file whose next part is `next` cannot end here (null when its parts reached its size). */
export function endProblem(next: PartSegment): string | null {
  return next.offset === next.fileSize ? null : `its parts end at ${next.offset} of ${next.fileSize} bytes: the last part is missing`;
}
