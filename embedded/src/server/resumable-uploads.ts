/**
 * The GCS resumable-upload protocol, served by the embedded runtime (docs/protocol.md, "Chunk
 * uploads"). Session state lives in SQLite and the partial bytes in a file per session, fsynced
 * after every request, so the offset the server reports (`308` + `Range`) is always durable: a
 * device that resumes from it never loses acknowledged bytes, even across a server crash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { BlobStore, Clock, UploadSession, UploadSessionRequest, UploadSessions } from '@lifeboat/functions/ports';
import { migrate } from '../adapters/sqlite-database';

/** Sessions live a week, as GCS resumable sessions do. */
export const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;

export interface CompletedUpload {
  key: string;
  size: number;
  metadata: Record<string, string>;
}

export interface ResumableUploadsOptions {
  db: Database;
  blobs: BlobStore;
  clock: Clock;
  /** Folder for partial uploads. */
  partsDir: string;
  /** Public base URL of the upload endpoint, e.g. `http://127.0.0.1:8787/upload`. */
  baseUrl: () => string;
  /**
   * Called once the bytes are stored under their key (onObjectFinalized on Firebase). If it
   * throws, the client is answered 503 and the next request on the session calls it again.
   */
  onComplete: (upload: CompletedUpload) => Promise<void>;
}

interface SessionRow {
  id: string;
  key: string;
  size: number;
  sha256: string;
  metadata: string;
  expires_at: number;
  state: 'open' | 'stored' | 'done';
}

/** What the HTTP layer sends back. */
export type UploadReply =
  | { status: 200; body: { name: string; size: number } }
  | { status: 308; range: string | null }
  | { status: 400 | 404 | 410 | 503; code: string; message: string };

const CONTENT_RANGE = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+)$/;

export class ResumableUploads implements UploadSessions {
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Every body byte that reached the endpoint, re-sent ones included (the kill test reads it). */
  bytesReceived = 0;

  constructor(private readonly options: ResumableUploadsOptions) {
    migrate(options.db, 'upload-sessions-1', [
      `CREATE TABLE upload_sessions (
         id TEXT PRIMARY KEY, key TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
         metadata TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
         state TEXT NOT NULL)`,
      'CREATE INDEX upload_sessions_expiry ON upload_sessions (expires_at)',
    ]);
  }

  async create(request: UploadSessionRequest): Promise<UploadSession> {
    const id = randomBytes(16).toString('hex');
    const now = this.options.clock.now();
    const expiresAt = now + SESSION_TTL_MS;
    this.options.db
      .prepare('INSERT INTO upload_sessions (id, key, size, sha256, metadata, created_at, expires_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, request.key, request.size, request.sha256, JSON.stringify(request.metadata), now, expiresAt, 'open');
    return { url: `${this.options.baseUrl()}/${id}`, expiresAt };
  }

  /** Handles one PUT on a session; requests on one session are serialised. */
  async handlePut(sessionId: string, contentRange: string | undefined, body: IncomingMessage): Promise<UploadReply> {
    const previous = this.locks.get(sessionId) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.put(sessionId, contentRange, body));
    this.locks.set(sessionId, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(sessionId) === run) this.locks.delete(sessionId);
    }
  }

  /** Deletes expired sessions and their partial bytes. */
  async sweepExpired(): Promise<number> {
    const now = this.options.clock.now();
    const rows = this.options.db.prepare('SELECT id FROM upload_sessions WHERE expires_at < ?').all(now) as { id: string }[];
    for (const { id } of rows) {
      await fsp.rm(this.partPath(id), { force: true });
      this.options.db.prepare('DELETE FROM upload_sessions WHERE id = ?').run(id);
    }
    return rows.length;
  }

  private partPath(id: string): string {
    return join(this.options.partsDir, `${id}.part`);
  }

  private async offsetOf(id: string): Promise<number> {
    try {
      return (await fsp.stat(this.partPath(id))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
  }

  private async put(sessionId: string, contentRange: string | undefined, body: IncomingMessage): Promise<UploadReply> {
    const row = /^[0-9a-f]{32}$/.test(sessionId)
      ? (this.options.db.prepare('SELECT * FROM upload_sessions WHERE id = ?').get(sessionId) as SessionRow | undefined)
      : undefined;
    if (!row) return drain(body, { status: 404, code: 'not-found', message: 'no such upload session' });
    if (row.state === 'open' && row.expires_at < this.options.clock.now()) {
      return drain(body, { status: 410, code: 'not-found', message: 'upload session expired' });
    }
    const range = CONTENT_RANGE.exec(contentRange ?? '');
    if (!range || Number(range[3]) !== row.size) {
      return drain(body, {
        status: 400,
        code: 'invalid-argument',
        message: `Content-Range must be "bytes FIRST-LAST/${row.size}" or "bytes */${row.size}"`,
      });
    }
    if (row.state !== 'open') {
      await drain(body, null);
      return this.complete(row);
    }

    let offset = await this.offsetOf(row.id);
    if (range[1] !== undefined && range[2] !== undefined) {
      const first = Number(range[1]);
      const last = Number(range[2]);
      if (first > offset || last < first || last >= row.size) {
        return drain(body, {
          status: 400,
          code: 'invalid-argument',
          message: `bytes ${first}-${last} do not continue the ${offset} bytes received`,
        });
      }
      offset = await this.append(row.id, body, offset - first, last - offset + 1);
    } else {
      await drain(body, null);
    }
    if (offset < row.size) return { status: 308, range: offset > 0 ? `bytes=0-${offset - 1}` : null };
    return this.store(row);
  }

  /**
   * Appends the body to the part file, skipping `skip` bytes the server already has and never
   * writing past `limit` new bytes. Whatever arrived is fsynced before answering, so it counts
   * even when the client drops mid-request.
   */
  private async append(id: string, body: IncomingMessage, skip: number, limit: number): Promise<number> {
    const out = createWriteStream(this.partPath(id), { flags: 'a' });
    let toSkip = skip;
    let room = limit;
    try {
      for await (const piece of body as AsyncIterable<Buffer>) {
        this.bytesReceived += piece.length;
        let data = piece;
        if (toSkip > 0) {
          const n = Math.min(toSkip, data.length);
          data = data.subarray(n);
          toSkip -= n;
        }
        if (data.length > room) data = data.subarray(0, room);
        room -= data.length;
        if (data.length > 0 && !out.write(data)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
    } catch {
      // The client went away mid-body: keep what arrived, as GCS does.
    }
    await new Promise<void>((resolveClose, reject) => {
      out.end(() => resolveClose());
      out.once('error', reject);
    });
    const handle = await fsp.open(this.partPath(id), 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    return this.offsetOf(id);
  }

  /** All bytes are in: check the hash, store under the key, then raise the completion event. */
  private async store(row: SessionRow): Promise<UploadReply> {
    const path = this.partPath(row.id);
    const hash = createHash('sha256');
    for await (const piece of createReadStream(path)) hash.update(piece as Buffer);
    if (hash.digest('hex') !== row.sha256) {
      // Start the session over: the bytes are not the chunk the device registered.
      await fsp.rm(path, { force: true });
      return { status: 400, code: 'data-loss', message: 'uploaded bytes do not match the chunk hash; upload it again' };
    }
    const metadata = JSON.parse(row.metadata) as Record<string, string>;
    await this.options.blobs.put(row.key, createReadStream(path), { ifAbsent: true, metadata });
    this.options.db.prepare("UPDATE upload_sessions SET state = 'stored' WHERE id = ?").run(row.id);
    await fsp.rm(path, { force: true });
    return this.complete({ ...row, state: 'stored' });
  }

  private async complete(row: SessionRow): Promise<UploadReply> {
    if (row.state === 'stored') {
      try {
        await this.options.onComplete({ key: row.key, size: row.size, metadata: JSON.parse(row.metadata) as Record<string, string> });
      } catch (err) {
        return { status: 503, code: 'unavailable', message: `upload stored, completion failed: ${(err as Error).message}` };
      }
      this.options.db.prepare("UPDATE upload_sessions SET state = 'done' WHERE id = ?").run(row.id);
    }
    return { status: 200, body: { name: row.key, size: row.size } };
  }
}

/** Reads and discards a request body so the connection can be reused, then returns `reply`. */
async function drain<T>(body: IncomingMessage, reply: T): Promise<T> {
  try {
    for await (const _ of body) {
      // discard
    }
  } catch {
    // A broken body changes nothing about the reply.
  }
  return reply;
}

