/**
 * Orders two `toUtcIso` strings (the UTC ISO 8601 instants the engine stores: chat times,
 * watermarks) in time, whatever their number of fraction digits.
 */
export function compareUtcIso(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const pad = (s: string) => s.slice(0, -1).padEnd(width, '0');
  const x = pad(a);
  const y = pad(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
