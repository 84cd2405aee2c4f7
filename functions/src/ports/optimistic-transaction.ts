/**
 * Firestore's transaction model for JobStores that lack it natively (SQLite, the in-memory fake):
 * an attempt remembers each document's revision when first read and buffers its writes; the commit
 * applies them only if every revision is unchanged, and otherwise the function runs again. The
 * Firestore adapter needs none of this: its SDK enforces the same rules.
 */
import { lifeboatError } from '../core/errors';
import { throwIfAborted } from './cancellation';
import type { JobTransaction } from './job-store';

const MAX_ATTEMPTS = 25;
const MAX_WRITES = 500;

/**
 * One attempt's reads and buffered writes, and the call rules of {@link JobTransaction}: no read
 * after the first write, no call at all once the attempt is over (`failed-precondition` for both).
 */
export abstract class BufferedTransaction<Read, Write> {
  /** The first read of each document, by a reference the store chooses. */
  readonly reads = new Map<string, Read>();
  readonly writes: Write[] = [];
  private open = true;

  constructor(private readonly signal: AbortSignal | undefined) {}

  /** Ends the attempt; later calls on it are refused. */
  close(): void {
    this.open = false;
  }

  /** Call before loading a document: refuses a read the rules forbid, or a cancelled one. */
  protected beforeRead(): void {
    this.checkOpen();
    if (this.writes.length > 0) {
      throw lifeboatError('failed-precondition', 'a transaction must do all its reads before its first write');
    }
    throwIfAborted(this.signal);
  }

  /** Records what a read saw, unless `ref` was read before in this attempt (the first read counts). */
  protected remember(ref: string, read: Read): void {
    if (!this.reads.has(ref)) this.reads.set(ref, read);
  }

  protected write(write: Write): void {
    this.checkOpen();
    this.writes.push(write);
  }

  private checkOpen(): void {
    if (!this.open) throw lifeboatError('failed-precondition', 'the transaction is over');
  }
}

/** What {@link runOptimisticTransaction} needs from a store. */
export interface OptimisticStore<Tx> {
  /** A fresh attempt, whose reads are refused once `signal` fires. */
  begin(signal: AbortSignal | undefined): Tx;
  /** Whether every document the attempt read still has the revision it saw. */
  readsCurrent(tx: Tx): boolean;
  /** Atomically checks the reads are current and applies the writes; false on a conflict. */
  commit(tx: Tx): boolean;
  /** Waits before the next attempt, so contending writers spread out. */
  backoff(attempt: number): Promise<void>;
}

/**
 * Runs `fn` as one optimistic transaction (`JobStore.runTransaction`): re-runs it while commits
 * conflict, and also when it threw after reading documents that have changed since (it saw an
 * inconsistent view).
 *
 * @throws whatever `fn` throws on a consistent view; LifeboatError `invalid-argument` for more than
 *   500 writes, `aborted` after 25 conflicting attempts, `cancelled` when `signal` fires.
 */
export async function runOptimisticTransaction<Tx extends JobTransaction & BufferedTransaction<unknown, unknown>, T>(
  store: OptimisticStore<Tx>,
  fn: (tx: JobTransaction) => Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    throwIfAborted(signal);
    const tx = store.begin(signal);
    let result: T;
    try {
      result = await fn(tx);
    } catch (err) {
      // A function that failed on reads that have since changed saw an inconsistent view: re-run it.
      if (attempt < MAX_ATTEMPTS && !store.readsCurrent(tx)) {
        await store.backoff(attempt);
        continue;
      }
      throw err;
    } finally {
      tx.close();
    }
    throwIfAborted(signal);
    if (tx.writes.length > MAX_WRITES) {
      throw lifeboatError('invalid-argument', `a transaction may write at most ${MAX_WRITES} documents`);
    }
    if (store.commit(tx)) return result;
    if (attempt >= MAX_ATTEMPTS) {
      throw lifeboatError('aborted', `transaction gave up after ${MAX_ATTEMPTS} conflicting attempts`);
    }
    await store.backoff(attempt);
  }
}
