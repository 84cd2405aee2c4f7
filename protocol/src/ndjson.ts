/**
 * The records of an NDJSON pack (docs/protocol.md, "Chunk formats"), without their newlines:
 * record `part` of an item is `lines[part]`. Both restores (the server's and the SDK's) cut packed
 * items out with it, so both read a pack the same way.
 */
export function splitLines(bytes: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.byteLength; i++) {
    if (bytes[i] === 0x0a) {
      lines.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < bytes.byteLength) lines.push(bytes.subarray(start));
  return lines;
}
