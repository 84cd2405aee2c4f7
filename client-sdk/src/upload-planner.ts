/**
 * The upload planner: what a backup run registers, uploads and commits, decided from its chunks,
 * the layouts it plans record deltas against and the server's answers. Pure: it does no I/O and
 * keeps no clock; the runner (backup-runner.ts) asks it, calls the server, and tells it the answers.
 *
 * - Contacts and chats chunks may go as recipes against the last backup's layout (record-delta.ts);
 *   a recipe the server cannot resolve (`unresolved`) goes again as its logical chunk, at once.
 * - Chunks are registered in batches of `batchSize`, in the order they were built.
 * - What the server answered `missing` is uploaded, each id once, in the order built; the rest the
 *   server has (deduplicated).
 * - The commit counts distinct chunk ids.
 */
import type { CallableResult } from '@lifeboat/protocol';
import type { Chunk } from './chunker';
import { isInMemory, type UploadChunk } from './media-file';
import { planRecordChunks, type DeltaType, type LayoutChunk, type PlannedChunk, type RecordLayout } from './record-delta';
import type { Hasher } from './hasher';
import type { BackupType } from './types';

/** Types whose chunks may go up as recipes (record-delta.ts). */
export const DELTA_TYPES: readonly DeltaType[] = ['contacts', 'chats'];

/** A chunk as `registerChunks` takes it. */
export interface ChunkRegistration {
  id: string;
  type: BackupType;
  size: number;
  items: number;
  /** A recipe's references: wire ids of the chunks it builds on. */
  refs?: string[];
}

/** `registerChunks`' answer for one batch (the protocol's): `unresolved` names recipes whose references the server no longer holds. */
export type RegisterAnswer = CallableResult<'registerChunks'>;

/** One `registerChunks` call to make. */
export interface RegisterBatch {
  chunks: UploadChunk[];
}

/** What an answer changed in the run's progress. */
export interface RegisterOutcome {
  /** Chunks of the batch the server already has. */
  chunksDone: number;
  /** Their bytes. */
  bytesDeduplicated: number;
}

/** The delta-planned types of a run: none end to end (the server cannot read a recipe there). */
export function deltaTypesOf(types: readonly BackupType[], endToEnd: boolean): DeltaType[] {
  return endToEnd ? [] : DELTA_TYPES.filter((t) => types.includes(t));
}

export interface UploadPlannerInput {
  /** The run's chunks, in the order built (end-to-end ones already encrypted). */
  chunks: readonly UploadChunk[];
  /** Per delta type of the run, the layout to plan against (none: every chunk goes whole). */
  bases: Partial<Record<DeltaType, RecordLayout | null>>;
  /** Names recipe chunks (record-delta.ts). */
  hasher: Hasher;
  /** Chunks per `registerChunks` call. */
  batchSize: number;
}

export class UploadPlanner {
  private readonly chunks: UploadChunk[];
  /** Delta plans by logical chunk id, contacts first then chats, each in the order built. */
  private readonly planned = new Map<string, PlannedChunk>();
  private readonly refsOf: Map<string, string[]>;
  /** Ids the server answered missing and that are not yet handed out for upload. */
  private readonly missing = new Set<string>();
  private readonly batchSize: number;
  private nextIndex = 0;
  /** Logical chunks to register before the next batch, replacing unresolved recipes. */
  private fallback: UploadChunk[] | null = null;

  constructor(input: UploadPlannerInput) {
    this.batchSize = input.batchSize;
    this.chunks = [...input.chunks];
    for (const type of DELTA_TYPES) {
      if (!(type in input.bases)) continue;
      const own = this.chunks.filter((c): c is Chunk => c.type === type && isInMemory(c));
      for (const plan of planRecordChunks(type, own, input.bases[type] ?? null, input.hasher)) this.planned.set(plan.logical.id, plan);
    }
    for (const [i, c] of this.chunks.entries()) {
      const plan = this.planned.get(c.id);
      if (plan && c.type === plan.logical.type) this.chunks[i] = plan.chunk;
    }
    this.refsOf = new Map([...this.planned.values()].filter((p) => p.refs.length > 0).map((p) => [p.chunk.id, p.refs] as const));
  }

  /** The chunks to send (recipes in place of their logical chunks), in order. */
  get wireChunks(): readonly UploadChunk[] {
    return this.chunks;
  }

  /** Bytes of the chunks to send. */
  get bytesTotal(): number {
    return this.chunks.reduce((n, c) => n + c.size, 0);
  }

  /** The next `registerChunks` call to make; null once every chunk is registered. */
  nextRegistration(): RegisterBatch | null {
    if (this.fallback) {
      const chunks = this.fallback;
      this.fallback = null;
      return { chunks };
    }
    if (this.nextIndex >= this.chunks.length) return null;
    const chunks = this.chunks.slice(this.nextIndex, this.nextIndex + this.batchSize);
    this.nextIndex += this.batchSize;
    return { chunks };
  }

  /** The batch's chunks as `registerChunks` takes them. */
  registrations(batch: RegisterBatch): ChunkRegistration[] {
    return batch.chunks.map(({ id, type, size, items }) => {
      const refs = this.refsOf.get(id);
      return { id, type, size, items, ...(refs ? { refs } : {}) };
    });
  }

  /**
   * Takes the server's answer to `batch`: what it lacks is to upload; what it has counts as done;
   * unresolved recipes go whole in the next registration.
   */
  applyRegistration(batch: RegisterBatch, answer: RegisterAnswer): RegisterOutcome {
    for (const id of answer.missing) this.missing.add(id);
    const unresolved = new Set(answer.unresolved ?? []);
    const outcome: RegisterOutcome = { chunksDone: 0, bytesDeduplicated: 0 };
    for (const chunk of batch.chunks) {
      if (this.missing.has(chunk.id) || unresolved.has(chunk.id)) continue;
      outcome.chunksDone += 1;
      outcome.bytesDeduplicated += chunk.size;
    }
    if (unresolved.size > 0) this.fallBackToLogical(unresolved);
    return outcome;
  }

  /** The server no longer holds what these recipes refer to: their records go whole. */
  private fallBackToLogical(unresolved: ReadonlySet<string>): void {
    const whole: Chunk[] = [];
    for (const plan of this.planned.values()) {
      if (!unresolved.has(plan.chunk.id)) continue;
      this.chunks[this.chunks.indexOf(plan.chunk)] = plan.logical;
      this.refsOf.delete(plan.chunk.id);
      plan.chunk = plan.logical;
      plan.refs = [];
      plan.layout = { logical: plan.logical.id, wire: plan.logical.id, records: plan.layout.records };
      whole.push(plan.logical);
    }
    if (whole.length > 0) this.fallback = whole;
  }

  /**
   * The chunks to upload, once registration is over: those the server answered missing, each id
   * once, in the order built. Hands each out once.
   */
  takeUploads(): UploadChunk[] {
    return this.chunks.filter((chunk) => this.missing.delete(chunk.id));
  }

  /** The `chunkCount` of `commitUpload`: distinct chunk ids (equal chunks are one on the server). */
  get commitChunkCount(): number {
    return new Set(this.chunks.map((c) => c.id)).size;
  }

  /** The layout of `type` this run leaves for the next one to plan against. */
  layoutOf(type: DeltaType): LayoutChunk[] {
    return [...this.planned.values()].filter((p) => p.logical.type === type).map((p) => p.layout);
  }
}

/** Bytes of each media file's chunks among `uploads`, by source id (per-file progress). */
export function fileUploadTotals(uploads: readonly UploadChunk[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const chunk of uploads) {
    if (!chunk.file) continue;
    totals.set(chunk.file.sourceId, (totals.get(chunk.file.sourceId) ?? 0) + chunk.size);
  }
  return totals;
}

/** The limits of the uploads in flight at once. */
export interface UploadWindow {
  /** Chunks at once. */
  parallel: number;
  /** Bytes of one upload piece: the most in flight, but for a chunk that goes alone. */
  pieceSize: number;
}

/** What a chunk holds of the window while it uploads: its size, at most one piece. */
export function windowCost(chunk: UploadChunk, window: UploadWindow): number {
  return Math.min(chunk.size, window.pieceSize);
}

/**
 * Whether a chunk of `cost` may start beside `running` chunks holding `inFlightBytes`. With none
 * running it always may (a chunk larger than a piece goes alone), so memory holds one piece and a
 * kill loses at most one piece.
 */
export function windowAdmits(window: UploadWindow, running: number, inFlightBytes: number, cost: number): boolean {
  return running === 0 || (running < window.parallel && inFlightBytes + cost <= window.pieceSize);
}


/** How many sessions a chunk may begin before an expiry is the upload's failure. */
export const MAX_SESSIONS_PER_CHUNK = 3;
