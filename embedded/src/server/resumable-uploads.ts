/**
 * The GCS resumable-upload protocol, served by the embedded runtime (docs/protocol.md, "Chunk
 * uploads"). Session state lives in SQLite and the partial bytes in a part per session
 * (`upload-parts.ts`), fsynced after every request, so the offset the server reports (`308` +
 * `Range`) is always durable: a device that resumes from it never loses acknowledged bytes, even
 * across a server crash.
 *
 * Every partial byte belongs to an open session of a live job (docs/invariants.md, "Upload
 * limits"): a chunk has at most one open session (beginning it again returns the same one), a user
 * at most `maxOpenPerUser` of them, `discardJob` (cancel) and {@link ResumableUploads.sweep}
 * (periodic: expired sessions, jobs no longer live, parts without a session) remove the rest. A
 * disk that is full or cannot be written fails the request with the real cause
 * (`resource-exhausted` / `unavailable`, `disk-faults.ts`) and leaves the part as the last
 * acknowledged request left it, never the process.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Database } from 'better-sqlite3';
import { lifeboatError, type LifeboatError } from '@lifeboat/engine/core';
import type { BlobStore, CallOptions, Clock, CreateUploadSessionOptions, Logger, UploadSession, UploadSessionRequest, UploadSessions } from '@lifeboat/engine/ports';
import { migrate } from '../adapters/sqlite-database';
import { HTTP_STATUS } from './callable-protocol';
import { diskFault } from './disk-faults';
import { FolderUploadParts, type UploadParts } from './upload-parts';

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
  /** Folder for partial uploads (used when `parts` is not given). */
  partsDir: string;
  /** Public base URL of the upload endpoint, e.g. `http://127.0.0.1:8787/upload`. */
  baseUrl: () => string;
  /**
   * Called once the bytes are stored under their key (onObjectFinalized on Firebase). If it
   * throws, the client is answered 503 and the next request on the session calls it again.
   */
  onComplete: (upload: CompletedUpload) => Promise<void>;
  /** Where the partial bytes live. @default a FolderUploadParts on `partsDir` */
  parts?: UploadParts;
  /**
   * Whether a job may still receive uploads (queued, running or paused); {@link ResumableUploads.sweep}
   * discards the sessions of every other job. @default none: the sweep keeps sessions until they expire
   */
  isLiveJob?: (jobId: string) => Promise<boolean>;
  /** Disk faults are logged here with their full cause (file paths included). @default none */
  logger?: Logger;
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
  | { status: 400 | 404 | 410 | 429 | 503; code: string; message: string; details?: Record<string, unknown> };

/** What one {@link ResumableUploads.sweep} removed. */
export interface UploadSweepReport {
  /** Sessions past their expiry. */
  expired: number;
  /** Sessions of jobs that are no longer live (completed, failed, cancelled, gone). */
  discarded: number;
  /** Parts on disk that no open session owned. */
  orphanParts: number;
}

const CONTENT_RANGE = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+)$/;

/** The error reply for a LifeboatError (a disk fault, a limit). */
function errorReply(err: LifeboatError): UploadReply {
  const status = HTTP_STATUS[err.code];
  return {
    status: status === 429 || status === 503 || status === 404 || status === 410 ? status : 400,
    code: err.code,
    message: err.message,
    ...(err.details ? { details: err.details } : {}),
  };
}

/** `uploads/{uid}/{jobId}/{chunkId}`'s owner, for sessions recorded before the owner had columns. */
function ownerOfKey(key: string): { uid: string | null; jobId: string | null } {
  const [folder, uid, jobId] = key.split('/');
  return folder === 'uploads' && uid && jobId ? { uid, jobId } : { uid: null, jobId: null };
}

export class ResumableUploads implements UploadSessions {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly parts: UploadParts;
  /** Every body byte that reached the endpoint, re-sent ones included (the kill test reads it). */
  bytesReceived = 0;

  constructor(private readonly options: ResumableUploadsOptions) {
    this.parts = options.parts ?? new FolderUploadParts(options.partsDir);
    migrate(options.db, 'upload-sessions-1', [
      `CREATE TABLE upload_sessions (
         id TEXT PRIMARY KEY, key TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
         metadata TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
         state TEXT NOT NULL)`,
      'CREATE INDEX upload_sessions_expiry ON upload_sessions (expires_at)',
    ]);
    // The owner of each session, so limits count a user's sessions and cancel finds a job's.
    if (
      migrate(options.db, 'upload-sessions-2', [
        'ALTER TABLE upload_sessions ADD COLUMN uid TEXT',
        'ALTER TABLE upload_sessions ADD COLUMN job_id TEXT',
        'CREATE INDEX upload_sessions_owner ON upload_sessions (uid, state)',
        'CREATE INDEX upload_sessions_job ON upload_sessions (job_id)',
        'CREATE INDEX upload_sessions_key ON upload_sessions (key, state)',
      ])
    ) {
      const rows = options.db.prepare('SELECT id, key FROM upload_sessions WHERE uid IS NULL').all() as { id: string; key: string }[];
      const set = options.db.prepare('UPDATE upload_sessions SET uid = ?, job_id = ? WHERE id = ?');
      for (const row of rows) {
        const owner = ownerOfKey(row.key);
        set.run(owner.uid, owner.jobId, row.id);
      }
    }
  }

  /**
   * Opens a session, or returns the open one for the same key, size and hash (a device that
   * begins a chunk again gets the same session, so a chunk never has two parts on disk).
   *
   * @throws LifeboatError `resource-exhausted` (not retryable, `details.limit: 'openUploadSessions'`)
   *   when the user already holds `maxOpenPerUser` open sessions.
   */
  async create(request: UploadSessionRequest, options: CreateUploadSessionOptions = {}): Promise<UploadSession> {
    const { db, clock } = this.options;
    const now = clock.now();
    const open = db.transaction((): { id: string; expiresAt: number } => {
      const existing = db
        .prepare("SELECT id, expires_at FROM upload_sessions WHERE key = ? AND state = 'open' AND size = ? AND sha256 = ? AND expires_at >= ? ORDER BY created_at DESC LIMIT 1")
        .get(request.key, request.size, request.sha256, now) as { id: string; expires_at: number } | undefined;
      if (existing) return { id: existing.id, expiresAt: existing.expires_at };
      const max = options.maxOpenPerUser;
      if (max !== undefined) {
        const { n } = db.prepare("SELECT COUNT(*) AS n FROM upload_sessions WHERE uid = ? AND state = 'open' AND expires_at >= ?").get(request.uid, now) as { n: number };
        if (n >= max) {
          throw lifeboatError('resource-exhausted', `beginChunkUpload: ${n} upload sessions are open for this user, the most allowed (openUploadSessions = ${max}); finish or cancel a backup first`, {
            retryable: false,
            details: { limit: 'openUploadSessions', max, open: n },
          });
        }
      }
      const id = randomBytes(16).toString('hex');
      const expiresAt = now + SESSION_TTL_MS;
      db.prepare('INSERT INTO upload_sessions (id, key, size, sha256, metadata, created_at, expires_at, state, uid, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
        id,
        request.key,
        request.size,
        request.sha256,
        JSON.stringify(request.metadata),
        now,
        expiresAt,
        'open',
        request.uid,
        request.jobId,
      );
      return { id, expiresAt };
    });
    const session = open.immediate();
    return { url: `${this.options.baseUrl()}/${session.id}`, expiresAt: session.expiresAt };
  }

  /** Removes every session of the job and its partial bytes; a later PUT to one gets 404. */
  async discardJob(uid: string, jobId: string, _options: CallOptions = {}): Promise<number> {
    const rows = this.options.db.prepare('SELECT id FROM upload_sessions WHERE uid = ? AND job_id = ?').all(uid, jobId) as { id: string }[];
    for (const { id } of rows) await this.removeSession(id);
    return rows.length;
  }

  /** Removes every session of the user, open or finished, and their partial bytes (the user's data is being deleted). */
  async discardUser(uid: string, _options: CallOptions = {}): Promise<number> {
    const rows = this.options.db.prepare('SELECT id FROM upload_sessions WHERE uid = ?').all(uid) as { id: string }[];
    for (const { id } of rows) await this.removeSession(id);
    return rows.length;
  }

  /** Handles one PUT on a session; requests on one session are serialised. */
  handlePut(sessionId: string, contentRange: string | undefined, body: IncomingMessage): Promise<UploadReply> {
    return this.withLock(sessionId, () => this.put(sessionId, contentRange, body));
  }

  /** Deletes expired sessions and their partial bytes. */
  async sweepExpired(): Promise<number> {
    const now = this.options.clock.now();
    const rows = this.options.db.prepare('SELECT id FROM upload_sessions WHERE expires_at < ?').all(now) as { id: string }[];
    for (const { id } of rows) await this.removeSession(id);
    return rows.length;
  }

  /**
   * Removes every partial byte no live session owns: expired sessions, the sessions of jobs that
   * are no longer live (`isLiveJob`), and parts without an open session (a crash between a
   * session's removal and its part's). The runtime runs it at start and periodically.
   */
  async sweep(): Promise<UploadSweepReport> {
    const report: UploadSweepReport = { expired: await this.sweepExpired(), discarded: 0, orphanParts: 0 };
    const { db, isLiveJob } = this.options;
    if (isLiveJob) {
      const jobs = db.prepare('SELECT DISTINCT uid, job_id FROM upload_sessions WHERE job_id IS NOT NULL').all() as { uid: string; job_id: string }[];
      for (const { uid, job_id } of jobs) if (!(await isLiveJob(job_id))) report.discarded += await this.discardJob(uid, job_id);
    }
    for (const id of await this.parts.list()) {
      const removed = await this.withLock(id, async () => {
        const row = db.prepare('SELECT state FROM upload_sessions WHERE id = ?').get(id) as { state: string } | undefined;
        if (row?.state === 'open') return false;
        await this.parts.remove(id);
        return true;
      });
      if (removed) report.orphanParts += 1;
    }
    return report;
  }

  /**
   * Runs {@link sweep} every `intervalMs` (never two at once; failures are logged) until the
   * returned function is called, which also waits for a sweep under way. 0 runs none.
   */
  sweepEvery(intervalMs: number): () => Promise<void> {
    if (!(intervalMs > 0)) return async () => {};
    let running: Promise<unknown> | null = null;
    const timer = setInterval(() => {
      running ??= this.sweep()
        .catch((err: unknown) => this.options.logger?.warn(`partial upload sweep failed: ${(err as Error).message}`))
        .finally(() => {
          running = null;
        });
    }, intervalMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await running;
    };
  }

  /** Runs `work` after every earlier piece of work on the same session settled. */
  private withLock<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(work);
    this.locks.set(id, run);
    return run.finally(() => {
      if (this.locks.get(id) === run) this.locks.delete(id);
    });
  }

  /** The row goes first, then the part: a crash between leaves an orphan part the sweep removes. */
  private removeSession(id: string): Promise<void> {
    return this.withLock(id, async () => {
      this.options.db.prepare('DELETE FROM upload_sessions WHERE id = ?').run(id);
      await this.parts.remove(id);
    });
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

    try {
      let offset = await this.parts.size(row.id);
      if (range[1] !== undefined && range[2] !== undefined) {
        const first = Number(range[1]);
        const last = Number(range[2]);
        if (first > offset || last < first || last >= row.size) {
          return await drain(body, {
            status: 400,
            code: 'invalid-argument',
            message: `bytes ${first}-${last} do not continue the ${offset} bytes received`,
          });
        }
        offset = await this.append(row.id, body, offset, offset - first, last - offset + 1);
      } else {
        await drain(body, null);
      }
      if (offset < row.size) return { status: 308, range: offset > 0 ? `bytes=0-${offset - 1}` : null };
      return await this.store(row);
    } catch (err) {
      const fault = diskFault(err, 'upload failed');
      if (!fault) throw err;
      this.options.logger?.warn(`upload refused by the disk [session=${row.id}, key=${row.key}]: ${(err as Error).message}`);
      // Whatever is left of the body is read and discarded, so the answer reaches the device.
      return drain(body, errorReply(fault));
    }
  }

  /**
   * Appends the body to the part, skipping `skip` bytes the server already has and never writing
   * past `limit` new bytes, then fsyncs. Whatever arrived counts even when the client drops
   * mid-request. A write or fsync the disk refuses cuts the part back to `durable` (its size
   * before this request, fsynced by the request that wrote it) and rethrows: the offset the
   * server reports stays durable, and a full disk gets its space back for other users.
   */
  private async append(id: string, body: IncomingMessage, durable: number, skip: number, limit: number): Promise<number> {
    let fault: { error: unknown } | null = null;
    let out: Awaited<ReturnType<UploadParts['openAppend']>> | null = null;
    try {
      out = await this.parts.openAppend(id);
    } catch (error) {
      fault = { error };
    }
    let toSkip = skip;
    let room = limit;
    try {
      for await (const piece of body as AsyncIterable<Buffer>) {
        this.bytesReceived += piece.length;
        // After a fault the rest of the body is read and dropped: leaving the loop early would
        // destroy the request, and the device would never see the answer.
        if (fault || !out) continue;
        let data: Uint8Array = piece;
        if (toSkip > 0) {
          const n = Math.min(toSkip, data.length);
          data = data.subarray(n);
          toSkip -= n;
        }
        if (data.length > room) data = data.subarray(0, room);
        room -= data.length;
        if (data.length === 0) continue;
        try {
          await out.write(data);
        } catch (error) {
          fault = { error };
        }
      }
    } catch {
      // The client went away mid-body: keep what arrived, as GCS does.
    }
    if (out) {
      if (!fault) {
        try {
          await out.sync();
        } catch (error) {
          fault = { error };
        }
      }
      try {
        await out.close();
      } catch (error) {
        fault ??= { error };
      }
    }
    if (fault) {
      try {
        await this.parts.truncate(id, durable);
      } catch (err) {
        this.options.logger?.warn(`could not cut upload part back after a disk fault [session=${id}]: ${(err as Error).message}`);
      }
      throw fault.error;
    }
    return this.parts.size(id);
  }

  /** All bytes are in: check the hash, store under the key, then raise the completion event. */
  private async store(row: SessionRow): Promise<UploadReply> {
    const hash = createHash('sha256');
    for await (const piece of this.parts.read(row.id)) hash.update(piece);
    if (hash.digest('hex') !== row.sha256) {
      // Start the session over: the bytes are not the chunk the device registered.
      await this.parts.remove(row.id);
      return { status: 400, code: 'data-loss', message: 'uploaded bytes do not match the chunk hash; upload it again' };
    }
    const metadata = JSON.parse(row.metadata) as Record<string, string>;
    // A put the disk refuses keeps the part: the device asks again and the store is retried.
    await this.options.blobs.put(row.key, this.parts.read(row.id), { ifAbsent: true, metadata });
    this.options.db.prepare("UPDATE upload_sessions SET state = 'stored' WHERE id = ?").run(row.id);
    await this.parts.remove(row.id);
    return this.complete({ ...row, state: 'stored' });
  }

  private async complete(row: SessionRow): Promise<UploadReply> {
    if (row.state === 'stored') {
      try {
        await this.options.onComplete({ key: row.key, size: row.size, metadata: JSON.parse(row.metadata) as Record<string, string> });
      } catch (err) {
        const fault = diskFault(err, 'upload stored, completion failed');
        if (fault) return errorReply(fault);
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
