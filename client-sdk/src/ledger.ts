/**
 * The device's ledger of unfinished backups, persisted in the app's KeyValueStore after each step,
 * so a backup survives the app being killed: `resumePending()` reads it and carries on. The server
 * is the authority on what arrived (registerChunks answers what is missing, an upload session
 * answers its offset); the ledger keeps what only the device knows: which jobs it started, with
 * which types and options, and the sessions of the chunks in flight (several with parallel
 * uploads, each recorded before its first byte is sent and dropped once the server has it all).
 */
import type { KeyValueStore } from './ports';
import type { BackupOptions, BackupType } from './types';

/** A chunk being uploaded and its resumable session, to continue within it after a kill. */
export interface InFlightUpload {
  chunkId: string;
  uploadUrl: string;
  expiresAt: number | null;
  /** Bytes the server acknowledged when last recorded (for progress; the session is the authority). */
  acknowledged: number;
}

export interface LedgerEntry {
  jobId: string;
  types: BackupType[];
  options?: BackupOptions;
  startedAt: number;
  /** Chunks in flight, by chunk id. */
  inFlight: Record<string, InFlightUpload>;
  /** Per type, the job whose layout the run planned that type's chunks against (record-delta.ts). */
  deltaBases?: Partial<Record<'contacts' | 'chats', string>>;
}

interface LedgerDocument {
  version: 2;
  entries: Record<string, LedgerEntry>;
}

/** Version 1 kept one in-flight chunk per job and its acknowledged bytes beside it. */
interface LedgerEntryV1 extends Omit<LedgerEntry, 'inFlight'> {
  inFlight: { chunkId: string; uploadUrl: string; expiresAt: number | null } | null;
  acknowledged: number;
}

function fromV1(entry: LedgerEntryV1): LedgerEntry {
  const { inFlight, acknowledged, ...rest } = entry;
  return { ...rest, inFlight: inFlight ? { [inFlight.chunkId]: { ...inFlight, acknowledged } } : {} };
}

export class UploadLedger {
  private readonly key: string;
  /**
   * Changes waiting for the write in progress. Writes never interleave their read-modify-write,
   * and the changes that arrive during one write (parallel uploads) go together in the next, so a
   * persistent store pays one write (an fsync in a file) for them all.
   */
  private pending: Array<{ change: (doc: LedgerDocument) => void; resolve: () => void; reject: (err: unknown) => void }> = [];
  private writing = false;

  constructor(private readonly store: KeyValueStore, deviceId: string) {
    this.key = `lifeboat/ledger/${deviceId}`;
  }

  async list(): Promise<LedgerEntry[]> {
    return Object.values((await this.read()).entries).sort((a, b) => a.startedAt - b.startedAt);
  }

  put(entry: LedgerEntry): Promise<void> {
    return this.update((doc) => {
      doc.entries[entry.jobId] = entry;
    });
  }

  patch(jobId: string, change: Partial<Omit<LedgerEntry, 'jobId'>>): Promise<void> {
    return this.update((doc) => {
      const current = doc.entries[jobId];
      if (current) doc.entries[jobId] = { ...current, ...change };
    });
  }

  /** Records (or, with `null`, drops) one in-flight chunk's session; other chunks are untouched. */
  setInFlight(jobId: string, chunkId: string, upload: InFlightUpload | null): Promise<void> {
    return this.update((doc) => {
      const current = doc.entries[jobId];
      if (!current) return;
      if (upload) current.inFlight[chunkId] = upload;
      else delete current.inFlight[chunkId];
    });
  }

  /** Notes the bytes the server acknowledged in an in-flight chunk. */
  acknowledge(jobId: string, chunkId: string, bytes: number): Promise<void> {
    return this.update((doc) => {
      const upload = doc.entries[jobId]?.inFlight[chunkId];
      if (upload) upload.acknowledged = bytes;
    });
  }

  remove(jobId: string): Promise<void> {
    return this.update((doc) => {
      delete doc.entries[jobId];
    });
  }

  private async read(): Promise<LedgerDocument> {
    const raw = await this.store.getItem(this.key);
    const empty: LedgerDocument = { version: 2, entries: {} };
    if (!raw) return empty;
    try {
      const doc = JSON.parse(raw) as { version?: number; entries?: Record<string, unknown> };
      if (!doc.entries || typeof doc.entries !== 'object') return empty;
      if (doc.version === 2) return doc as LedgerDocument;
      if (doc.version !== 1) return empty;
      const entries: Record<string, LedgerEntry> = {};
      for (const [id, entry] of Object.entries(doc.entries)) entries[id] = fromV1(entry as LedgerEntryV1);
      return { version: 2, entries };
    } catch {
      // A torn or foreign value: start over. The server still knows every job and chunk.
      return empty;
    }
  }

  /** Resolves once a write that includes `change` has been stored. */
  private update(change: (doc: LedgerDocument) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ change, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      try {
        const doc = await this.read();
        for (const { change } of batch) change(doc);
        if (Object.keys(doc.entries).length === 0) await this.store.removeItem(this.key);
        else await this.store.setItem(this.key, JSON.stringify(doc));
        for (const { resolve } of batch) resolve();
      } catch (err) {
        for (const { reject } of batch) reject(err);
      }
    }
    this.writing = false;
  }
}

/** A KeyValueStore in memory: the default, which does not survive the process. */
export function memoryKeyValueStore(): KeyValueStore {
  const map = new Map<string, string>();
  return {
    async getItem(key) { return map.get(key) ?? null; },
    async setItem(key, value) { map.set(key, value); },
    async removeItem(key) { map.delete(key); },
  };
}
