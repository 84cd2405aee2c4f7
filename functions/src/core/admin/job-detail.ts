/**
 * One job as the dashboard's detail page shows it: a timeline of its phases, attempts and errors
 * per step, its chunks by state (and a page of them), and the snapshot it made.
 */
import type { ChunkTotals, JobTask, KnownTotals } from '../../ports';
import { requireJob } from '../jobs';
import type { ChunkRecord, Snapshot } from '../model';
import type { AdminDeps } from './admin-deps';
import { jobViews, type JobView } from './job-views';

export interface TimelineEntry {
  at: number;
  /** `created`, `started`, `progress`, `error`, `wake-up`, `finished`. */
  kind: 'created' | 'started' | 'progress' | 'error' | 'wake-up' | 'finished';
  text: string;
  /** Draw it as a problem. */
  bad?: boolean;
}

/** Attempts and errors of one step (one queue) of the job. */
export interface StepSummary {
  step: string;
  /** Tasks of the step the queue holds (one per chunk for processChunk). */
  tasks: number;
  attempts: number;
  running: number;
  /** Tasks that failed at least once (retried or dropped). */
  retried: number;
  dropped: number;
  /** The newest error of the step. */
  lastError: string | null;
}

export interface JobDetail extends JobView {
  timeline: TimelineEntry[];
  /** Per step; from the queue's tasks where it keeps them (embedded), else from what the job and its chunks record. */
  steps: StepSummary[];
  /** The queue's tasks of the job, oldest first; null where the queue keeps no history (Cloud Tasks). */
  tasks: JobTask[] | null;
  chunks: {
    /** Chunk records by state (chunks the device sent or must send). */
    byState: ChunkTotals;
    /** Chunks registration found stored already (no record, no upload). */
    known: KnownTotals;
    /** Chunk records in registration order, failed ones with their error. */
    page: ChunkRecord[];
    nextCursor?: string;
    /** Why there are no records: a finished job's registration state is deleted with its snapshot. */
    note?: string;
  };
  snapshot: Snapshot | null;
}

function timelineOf(view: JobView): TimelineEntry[] {
  const { job } = view;
  const out: TimelineEntry[] = [{ at: job.createdAt, kind: 'created', text: `created (${job.trigger}${job.scheduleId ? `, schedule ${job.scheduleId}` : ''}) for ${job.types.join(', ')}` }];
  if (job.wakeUp) out.push({ at: job.wakeUp.at, kind: 'wake-up', text: `device wake-up: ${job.wakeUp.outcome}${job.wakeUp.message ? ` (${job.wakeUp.message})` : ''}`, bad: job.wakeUp.outcome !== 'sent' });
  if (job.startedAt !== null) out.push({ at: job.startedAt, kind: 'started', text: `started (attempt ${job.attempts})` });
  if (job.progressAt !== undefined) {
    const p = job.progress;
    out.push({ at: job.progressAt, kind: 'progress', text: `progress: ${p.processedItems}/${p.totalItems} items, ${p.processedChunks}/${p.totalChunks} chunks, ${p.bytesUploaded} B uploaded, ${p.bytesStored} B stored` });
  }
  if (job.lastError) {
    const e = job.lastError;
    out.push({ at: e.at, kind: 'error', text: `${e.step} failed: ${e.code}: ${e.message}${e.retrying ? ' (retrying)' : ''}`, bad: true });
  }
  if (job.finishedAt !== null) out.push({ at: job.finishedAt, kind: 'finished', text: `${job.status}${job.snapshotId ? `: snapshot ${job.snapshotId}` : ''}`, bad: job.status === 'failed' });
  if (view.attention && job.finishedAt === null) out.push({ at: view.lastActivityAt, kind: 'progress', text: view.attention.message, bad: view.attention.kind === 'abandoned' || view.attention.kind === 'retrying' });
  return out.sort((a, b) => a.at - b.at);
}

function stepsFromTasks(tasks: readonly JobTask[]): StepSummary[] {
  const steps = new Map<string, StepSummary>();
  for (const t of tasks) {
    const s = steps.get(t.queue) ?? { step: t.queue, tasks: 0, attempts: 0, running: 0, retried: 0, dropped: 0, lastError: null };
    s.tasks += 1;
    s.attempts += t.attempts;
    if (t.state === 'leased') s.running += 1;
    if (t.state === 'dropped') s.dropped += 1;
    if (t.lastError !== null) {
      s.retried += 1;
      s.lastError = t.lastError;
    }
    steps.set(t.queue, s);
  }
  return [...steps.values()];
}

/**
 * A step that failed for good returns normally (its error is recorded on the job, not the task),
 * so the task shows no error: the job's own error is the step's.
 */
function withJobError(steps: StepSummary[], view: JobView): StepSummary[] {
  const e = view.job.lastError;
  if (!e) return steps;
  const text = `${e.code}: ${e.message}`;
  const step = steps.find((s) => s.step === e.step);
  if (!step) return [...steps, { step: e.step, tasks: 0, attempts: 0, running: 0, retried: 0, dropped: 0, lastError: text }];
  if (step.lastError === null) step.lastError = text;
  return steps;
}

/** Without the queue's history: the job's own error, and processChunk's from its failed chunks. */
function stepsFromRecords(view: JobView, chunks: readonly ChunkRecord[]): StepSummary[] {
  const out: StepSummary[] = [];
  const failed = chunks.filter((c) => c.state === 'failed' || c.error !== null);
  if (failed.length > 0) {
    out.push({ step: 'processChunk', tasks: chunks.length, attempts: chunks.length, running: 0, retried: failed.length, dropped: 0, lastError: failed[failed.length - 1]?.error ?? null });
  }
  const e = view.job.lastError;
  if (e && !(e.step === 'processChunk' && failed.length > 0)) out.push({ step: e.step, tasks: 1, attempts: 1, running: 0, retried: 1, dropped: e.retrying ? 0 : 1, lastError: `${e.code}: ${e.message}` });
  return out;
}

export async function jobDetail(deps: AdminDeps, jobId: string, chunkCursor?: string): Promise<JobDetail> {
  const stored = await requireJob(deps.store, jobId);
  const [view] = await jobViews(deps, [stored]);
  if (!view) throw new Error('unreachable: one job, one view');
  const [byState, known, page, snapshot, tasks] = await Promise.all([
    deps.store.chunkTotals(jobId),
    deps.store.knownTotals(jobId),
    deps.store.listChunks(jobId, { limit: 100, ...(chunkCursor ? { cursor: chunkCursor } : {}) }),
    view.job.snapshotId ? deps.store.getSnapshot(view.job.snapshotId) : Promise.resolve(null),
    deps.queues.tasksOfJob ? deps.queues.tasksOfJob(jobId) : Promise.resolve(null),
  ]);
  return {
    ...view,
    timeline: timelineOf(view),
    steps: tasks ? withJobError(stepsFromTasks(tasks), view) : stepsFromRecords(view, page.items),
    tasks,
    chunks: {
      byState,
      known,
      page: page.items,
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      ...(page.items.length === 0 && (view.job.status === 'completed' || view.job.status === 'cancelled')
        ? { note: `the job's chunk records were deleted when it ${view.job.status === 'completed' ? 'made its snapshot' : 'was cancelled'}; its progress keeps the final counts (${view.job.progress.totalChunks} chunks)` }
        : {}),
    },
    snapshot,
  };
}
