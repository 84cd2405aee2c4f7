/**
 * One file a folder restore writes. Every stream has its `'error'` handled: a failed open (the
 * name exists, is too long, the folder is read-only) or write (disk full) is recorded on the file
 * and its later writes are dropped, never an unhandled error that ends the process, so the
 * restore goes on with the other files and reports this one.
 */
import { createWriteStream, promises as fsp, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';

export class OutputFile {
  private stream: WriteStream | null = null;
  private opened = false;
  private started = false;
  /** The first error the file met; once set, writes are dropped. */
  error: NodeJS.ErrnoException | null = null;
  /** Bytes handed to `write` so far. */
  bytes = 0;

  constructor(readonly path: string) {}

  /**
   * Appends `data`, waiting while the stream's buffer is full. The first write creates the file
   * (`wx`: never over an existing one); a file closed to save descriptors is reopened to append.
   * @returns false when the file has failed (this write or an earlier one).
   */
  async write(data: Uint8Array | string): Promise<boolean> {
    if (this.error) return false;
    this.bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
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

/**
 * The files of one restore folder: each created once (`wx`), in subfolders made as needed.
 * Shared files (a conversation, contacts.ndjson) stay open while used; beyond `maxOpen` the least
 * recently used is closed and reopened to append when needed, so a restore of many conversations
 * never runs out of descriptors.
 */
export class OutputFolder {
  /** Every file created, in creation order. */
  readonly created: string[] = [];
  private readonly open = new Map<string, SharedFile>();
  private readonly closed = new Map<string, SharedFile>();
  private readonly folders = new Set<string>();

  /** @param maxOpen shared files kept open at once. @default 64 */
  constructor(readonly dir: string, private readonly maxOpen = 64) {}

  /** A new file of its own (a media file), at `name` relative to the folder. */
  async file(name: string): Promise<OutputFile> {
    const folder = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '';
    if (folder && !this.folders.has(folder)) {
      await fsp.mkdir(join(this.dir, folder), { recursive: true });
      this.folders.add(folder);
    }
    this.created.push(name);
    return new OutputFile(join(this.dir, name));
  }

  /** Appends one item's pieces to a shared file; false when the file has failed (the item is counted lost). */
  async append(name: string, ...pieces: Array<Uint8Array | string>): Promise<boolean> {
    const entry = await this.shared(name);
    for (const piece of pieces) {
      if (!(await entry.file.write(piece))) {
        entry.lost += 1;
        return false;
      }
    }
    entry.items += 1;
    return true;
  }

  /** Closes every shared file and returns those that failed, with the items written to them and lost. */
  async closeAll(): Promise<Array<{ name: string; error: NodeJS.ErrnoException; items: number; lost: number }>> {
    const all = [...this.open, ...this.closed];
    for (const [, entry] of all) await entry.file.close();
    return all.flatMap(([name, { file, items, lost }]) => (file.error ? [{ name, error: file.error, items, lost }] : []));
  }

  private async shared(name: string): Promise<SharedFile> {
    let entry = this.open.get(name) ?? this.closed.get(name);
    if (entry) {
      this.open.delete(name);
      this.closed.delete(name);
    } else {
      entry = { file: await this.file(name), items: 0, lost: 0 };
    }
    // Map order is use order: the first entry is the least recently used.
    this.open.set(name, entry);
    if (this.open.size > this.maxOpen) {
      const [oldest, old] = this.open.entries().next().value as [string, SharedFile];
      this.open.delete(oldest);
      this.closed.set(oldest, old);
      await old.file.close();
    }
    return entry;
  }
}

interface SharedFile {
  file: OutputFile;
  /** Items written to it. */
  items: number;
  /** Items meant for it after it failed. */
  lost: number;
}
