/**
 * The FileSource for Node and Electron: an fs file handle that reads only the range asked for
 * (`FileHandle.read` at a position), so memory holds one piece, never the file.
 */
import { promises as fsp } from 'node:fs';
import type { FileSource, OpenedFile } from '../ports';

export function nodeFileSource(): FileSource {
  return {
    async open(path: string): Promise<OpenedFile> {
      const handle = await fsp.open(path, 'r');
      let size: number;
      try {
        size = (await handle.stat()).size;
      } catch (err) {
        await handle.close();
        throw err;
      }
      return {
        size,
        async read(offset, length, into) {
          // The caller's scratch buffer when it offers one (see the FileSource contract), else a
          // fresh one: the caller may still be sending the previous piece.
          const buffer = into && into.byteLength >= length ? Buffer.from(into.buffer, into.byteOffset, length) : Buffer.allocUnsafe(length);
          let filled = 0;
          while (filled < length) {
            const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
            if (bytesRead === 0) break;
            filled += bytesRead;
          }
          return new Uint8Array(buffer.buffer, buffer.byteOffset, filled);
        },
        close: () => handle.close(),
      };
    },
  };
}
