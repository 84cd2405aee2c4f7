/**
 * A FileSource over Blobs (a browser `File` from an `<input type="file">`, a Blob from IndexedDB
 * or the File System Access API): `slice()` reads only the asked range, so a 2 GB video is read
 * one piece at a time. Platform-neutral: Blob exists in browsers, Node 18+ and Electron.
 */
import type { FileSource, OpenedFile } from './ports';

/** The slice of Blob this source uses (a DOM `Blob` or `File` has it). */
export interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/**
 * @param resolve maps the `path` a media item names to its Blob (e.g. a Map of the files the
 * user picked, by name); a rejection or `undefined` fails the open.
 */
export function blobFileSource(resolve: (path: string) => BlobLike | undefined | Promise<BlobLike | undefined>): FileSource {
  return {
    async open(path: string): Promise<OpenedFile> {
      const blob = await resolve(path);
      if (!blob) throw new Error(`no file for ${path}`);
      return {
        size: blob.size,
        async read(offset, length) {
          return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
        },
        async close() {
          // Nothing to release: a Blob is read through fresh slices.
        },
      };
    },
  };
}
