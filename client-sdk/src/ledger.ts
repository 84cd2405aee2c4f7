/**
 * The device's ledger of unfinished backups, persisted in the app's KeyValueStore after each step,
 * so a backup survives the app being killed: `resumePending()` reads it and carries on. The server
 * is the authority on what arrived (registerChunks answers what is missing, an upload session
 * answers its offset); the ledger keeps what only the device knows: which jobs it started, with
 * which types and options, and the session of the chunk in flight.
 */
import type { KeyValueStore } from './ports';
import type { BackupOptions, BackupType } from './types';

export interface LedgerEntry {
  jobId: string;
  types: BackupType[];
  options?: BackupOptions;
  startedAt: number;
  /** The chunk being uploaded and its resumable session, to continue within it. */
  inFlight: { chunkId: string; uploadUrl: string; expiresAt: number | null } | null;
  /** Bytes the server acknowledged in the in-flight chunk when last recorded (for progress). */
  acknowledged: number;
}

interface LedgerDocument {
  version: 1;
  entries: Record<string, LedgerEntry>;
}

export class UploadLedger {
  private readonly key: string;
  /** Writes are chained so two updates never interleave their read-modify-write. */
  private queue: Promise<unknown> = Promise.resolve();

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

  remove(jobId: string): Promise<void> {
    return this.update((doc) => {
      delete doc.entries[jobId];
    });
  }

  private async read(): Promise<LedgerDocument> {
    const raw = await this.store.getItem(this.key);
    if (!raw) return { version: 1, entries: {} };
    try {
      const doc = JSON.parse(raw) as LedgerDocument;
      return doc.version === 1 && doc.entries && typeof doc.entries === 'object' ? doc : { version: 1, entries: {} };
    } catch {
      // A torn or foreign value: start over. The server still knows every job and chunk.
      return { version: 1, entries: {} };
    }
  }

  private update(change: (doc: LedgerDocument) => void): Promise<void> {
    const run = this.queue.then(async () => {
      const doc = await this.read();
      change(doc);
      if (Object.keys(doc.entries).length === 0) await this.store.removeItem(this.key);
      else await this.store.setItem(this.key, JSON.stringify(doc));
    });
    this.queue = run.catch(() => undefined);
    return run;
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
