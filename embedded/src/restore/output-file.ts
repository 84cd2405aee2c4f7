/**
 * One file a folder restore writes. Every stream has its `'error'` handled: a failed open (the
 * name exists, is too long, the folder is read-only) or write (disk full) is recorded on the file
 * and its later writes are dropped, never an unhandled error that ends the process, so the
 * restore goes on with the other files and reports this one.
 */
import { createWriteStream, promises as fsp, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';

export class OutputFile {
  private stream: WriteStream | null = null;
  private opened = false;
  private started = false;
  /** The first error the file met; once set, writes are dropped. */
  error: NodeJS.ErrnoException | null = null;

  constructor(readonly path: string) {}

  /**
   * Appends `data`, waiting while the stream's buffer is full. The first write creates the file
   * (`wx`: never over an existing one); a file closed to save descriptors is reopened to append.
   * @returns false when the file has failed (this write or an earlier one).
   */
  async write(data: Uint8Array | string): Promise<boolean> {
    if (this.error) return false;
    const stream = this.stream ?? this.open();
    // A destroyed stream (it failed) never drains: nothing to wait for.
    if (!stream.write(data) && !stream.destroyed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('close', done);
          resolve();
        };
        stream.on('drain', done);
        // A stream that fails is destroyed and closes: no 'drain' follows.
        stream.on('close', done);
      });
    }
    return this.error === null;
  }

  /** Flushes and closes the stream (it is reopened by the next write); errors land on `error`. */
  async close(): Promise<void> {
    const stream = this.stream;
    if (!stream) return;
    this.stream = null;
    stream.end();
    try {
      await finished(stream);
    } catch (err) {
      this.error ??= err as NodeJS.ErrnoException;
    }
  }

  /** Closes the file and deletes it if this restore created it: a failed file is not left half written. */
  async discard(): Promise<void> {
    await this.close();
    if (this.opened) await fsp.rm(this.path, { force: true });
  }

  private open(): WriteStream {
    const stream = createWriteStream(this.path, { flags: this.started ? 'a' : 'wx' });
    this.started = true;
    stream.on('open', () => {
      this.opened = true;
    });
    stream.on('error', (err: NodeJS.ErrnoException) => {
      this.error ??= err;
    });
    this.stream = stream;
    return stream;
  }
}

/** The engine's code for a file system error, so a report reads like every other Lifeboat error. */
export function codeOfFileError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EMFILE':
    case 'ENFILE':
      return 'resource-exhausted';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'permission-denied';
    case 'EEXIST':
      return 'already-exists';
    case 'ENAMETOOLONG':
    case 'EINVAL':
      return 'invalid-argument';
    default:
      return 'internal';
  }
}
