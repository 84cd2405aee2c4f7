/**
 * Where the embedded server keeps the partial bytes of resumable upload sessions: one file per
 * session (`{id}.part`) in a folder. Everything goes through promise-returning file handles, never
 * event-emitting streams, so a full disk (ENOSPC) or an unwritable folder (EACCES, EROFS) is a
 * rejected promise the caller answers, never an unhandled `'error'` event that ends the process.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

/** An open part being appended to; `close` must always be called. */
export interface PartAppender {
  /** Appends `bytes` at the end; resolves when the write call returned (not yet durable). */
  write(bytes: Uint8Array): Promise<void>;
  /** Makes everything written durable (fsync). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The partial bytes of upload sessions, keyed by session id (32 hex characters). Every method
 * rejects with the file system's own error (`code` ENOSPC, EACCES, ...) so the caller can tell the
 * device the real cause.
 */
export interface UploadParts {
  /** Bytes held for the session; 0 when it has no part yet. */
  size(id: string): Promise<number>;
  /** Opens the session's part for appending, creating it if absent. */
  openAppend(id: string): Promise<PartAppender>;
  /** Cuts the part back to `size` bytes (a request that failed leaves nothing behind). */
  truncate(id: string, size: number): Promise<void>;
  /** The part's bytes, read piece by piece; nothing is opened until the first piece is asked for. */
  read(id: string): AsyncIterable<Uint8Array>;
  /** Deletes the part; a missing one is fine. */
  remove(id: string): Promise<void>;
  /** Ids of every part present (the sweep removes those no open session owns). */
  list(): Promise<string[]>;
}

const PART_NAME = /^([0-9a-f]{32})\.part$/;
const READ_BYTES = 256 * 1024;

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/** {@link UploadParts} in a local folder (`partsDir`), one `{id}.part` file per session. */
export class FolderUploadParts implements UploadParts {
  constructor(private readonly dir: string) {}

  private path(id: string): string {
    return join(this.dir, `${id}.part`);
  }

  async size(id: string): Promise<number> {
    try {
      return (await fsp.stat(this.path(id))).size;
    } catch (err) {
      if (isMissing(err)) return 0;
      throw err;
    }
  }

  async openAppend(id: string): Promise<PartAppender> {
    const handle = await fsp.open(this.path(id), 'a');
    return {
      async write(bytes) {
        let offset = 0;
        while (offset < bytes.byteLength) {
          const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
          offset += bytesWritten;
        }
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  }

  async truncate(id: string, size: number): Promise<void> {
    try {
      await fsp.truncate(this.path(id), size);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }

  async *read(id: string): AsyncIterable<Uint8Array> {
    const handle = await fsp.open(this.path(id), 'r');
    try {
      for (;;) {
        const buffer = Buffer.allocUnsafe(READ_BYTES);
        const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, null);
        if (bytesRead === 0) return;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }

  async remove(id: string): Promise<void> {
    await fsp.rm(this.path(id), { force: true });
  }

  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    return names.flatMap((name) => {
      const id = PART_NAME.exec(name)?.[1];
      return id ? [id] : [];
    });
  }
}
