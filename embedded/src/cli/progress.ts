/**
 * Progress of a long command (verify, restore, gc) on one terminal line, redrawn at most ten times
 * a second and cleared when the command ends. Only when stdout is a terminal and the output is
 * not JSON: a pipe, a file or a script gets the result alone.
 */

/** The part of a stream the bar writes to (`process.stdout` has it). */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface Progress {
  /** `done` of `total` (when the bar has one), with a short detail such as bytes written. */
  update(done: number, detail?: string): void;
  /** Clears the line; the command's result follows. */
  finish(): void;
}

const SILENT: Progress = { update: () => undefined, finish: () => undefined };

/** Redraws at most this often. */
const INTERVAL_MS = 100;

/**
 * A progress line on `stream` when `enabled` and the stream is a terminal, else one that writes
 * nothing.
 * @param total the count that means done; without it the line shows a count only. @default none
 * @param now the clock. @default Date.now
 */
export function progressLine(stream: ProgressStream, enabled: boolean, label: string, total?: number, now: () => number = Date.now): Progress {
  if (!enabled || stream.isTTY !== true) return SILENT;
  let last = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return {
    update(done, detail) {
      const at = now();
      if (at - last < INTERVAL_MS && done !== total) return;
      last = at;
      drawn = true;
      // A terminal that does not say its width (0 under some ptys) gets the common 80 columns.
      const width = Math.max(20, (stream.columns || 80) - 1);
      let text: string;
      if (total !== undefined && total > 0) {
        const share = Math.min(1, done / total);
        const barWidth = 20;
        const filled = Math.round(share * barWidth);
        text = `${label} [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${String(Math.floor(share * 100)).padStart(3)}% ${done}/${total}`;
      } else {
        text = `${label} ${done}`;
      }
      if (detail) text += ` ${detail}`;
      stream.write(`\r\x1b[K${text.slice(0, width)}`);
    },
    finish() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}

/** Bytes for people: 1.5 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
