/**
 * `check` as a task (issue 14): the admin surface asks for a check of one user
 * ({@link requestCheck}), a `maintenance` task runs it ({@link runCheckTask}) within the task's
 * deadline, and the latest check's record stays where both runtimes' dashboards read it:
 * `settings/{uid}/check` in the blob store (beside the storage measurement; outside the namespace
 * GC sweeps), so no store port grows a method for it.
 *
 * One check per user at a time: while a check is queued or running (and its record was saved in
 * the last {@link STALE_CHECK_MS}), a request answers with its record instead of starting another.
 * A request is named by its `requestedAt`, which names its task too, so an enqueue repeated or a
 * task delivered twice runs the check once; a task whose request was superseded by a newer one, or
 * that already ended, does nothing.
 *
 * The walk cannot resume: a check that does not finish by a minute before the task's deadline is
 * stopped (every store call honours the signal; a repair releases its GC lease first) and
 * recorded as failed with `deadline-exceeded`. A repair that stopped part-way has done only
 * idempotent writes, and a new check carries on from what is left; a user too large to walk in
 * 8 minutes is checked with the CLI (`lifeboat check --project P --uid U`), which has no deadline.
 *
 * The record is written whole (the blob store has no compare-and-set): each write first reads the
 * record and writes only while the request is still the current one, so a superseded task does
 * not overwrite a newer request's record, except in the instant between that read and its write.
 */
import { z } from 'zod';
import type { CallOptions, Clock, Logger, TaskQueue } from '../../ports';
import { codeOf, isRetryable, lifeboatError, messageOf } from '../errors';
import { sha256Hex } from '../hash';
import { encodeStoredJson, readStoredJson, settingsKey } from '../stored-json';
import { CHECK_PROBLEM_KINDS, type CheckProblem, type CheckProblemKind, type UserCheckReport } from './check-report';
import { CheckUid, checkUser, type CheckDeps, type CheckProgress } from './check-repository';

/** Bounds on what a check record keeps, so it stays a few tens of KB whatever the repository holds. */
export const CHECK_RECORD_LIMITS = {
  /** Problems kept, the first ones (`problemCount` and `byKind` count them all). */
  problems: 20,
  /** Snapshots, items and index entries listed per kept problem (each with its count). */
  perProblem: 5,
  /** Characters of a problem's message or an error's. */
  messageChars: 500,
} as const;

/** A queued or running check whose record was not saved for this long is taken as dead: a new request starts over. */
export const STALE_CHECK_MS = 30 * 60_000;

/** How often a running check saves its progress on its record (at most). */
export const CHECK_PROGRESS_SAVE_MS = 15_000;

/** The `maintenance` task that runs one requested check. */
export const CheckTaskPayload = z.object({
  kind: z.literal('check'),
  uid: CheckUid,
  readDataPercent: z.number().min(0).max(100).optional(),
  repair: z.boolean(),
  /** Names the request (and its task): a task of an older request does nothing. */
  requestedAt: z.number().int().nonnegative(),
  /** Who asked (an admin's uid, or `lifeboat-cli`). */
  actor: z.string().min(1).max(256),
});
export type CheckTaskPayload = z.output<typeof CheckTaskPayload>;

const count = z.number().int().nonnegative();

export const StoredCheckProblem = z.object({
  kind: z.enum(CHECK_PROBLEM_KINDS),
  ref: z.string(),
  message: z.string().max(CHECK_RECORD_LIMITS.messageChars),
  snapshots: z.array(z.string()).max(CHECK_RECORD_LIMITS.perProblem),
  snapshotCount: count,
  items: z.array(z.object({ type: z.string(), sourceId: z.string() })).max(CHECK_RECORD_LIMITS.perProblem),
  itemCount: count,
  indexEntries: z.array(z.string()).max(CHECK_RECORD_LIMITS.perProblem),
  indexEntryCount: count,
  remains: z.boolean(),
  repaired: z.object({ droppedIndexEntries: count, quarantined: z.boolean() }).optional(),
});
export type StoredCheckProblem = z.output<typeof StoredCheckProblem>;

const CheckError = z.object({ code: z.string(), message: z.string().max(CHECK_RECORD_LIMITS.messageChars) });

export const CHECK_STATUSES = ['queued', 'running', 'done', 'failed'] as const;

/** A user's latest check as the dashboard shows it (`settings/{uid}/check`). */
export const CheckRecord = z.object({
  uid: z.string(),
  requestedAt: count,
  actor: z.string(),
  repair: z.boolean(),
  readDataPercent: z.number().min(0).max(100),
  status: z.enum(CHECK_STATUSES),
  updatedAt: count,
  /** When the task started on it (its latest attempt). */
  startedAt: count.nullable(),
  finishedAt: count.nullable(),
  /** Where a running check is (saved at most every {@link CHECK_PROGRESS_SAVE_MS}). */
  progress: z.object({ phase: z.enum(['listing', 'snapshots', 'index', 'repair']), done: count, total: count.optional(), problems: count }).nullable(),
  /** What a finished check found (and repaired). */
  result: z
    .object({
      /** No problem remains (none found, or a repair dealt with every one that did not lose a snapshot's data). */
      ok: z.boolean(),
      snapshots: count,
      indexEntries: count,
      listedBlobs: count,
      manifestObjects: count,
      contentBlobs: count,
      contentRead: count,
      damagedSnapshots: count,
      problemCount: count,
      /** Problems left after the run (a snapshot's lost data stays, marked). */
      remaining: count,
      byKind: z.partialRecord(z.enum(CHECK_PROBLEM_KINDS), count),
      /** The first {@link CHECK_RECORD_LIMITS.problems} problems. */
      problems: z.array(StoredCheckProblem).max(CHECK_RECORD_LIMITS.problems),
      repair: z
        .object({ droppedIndexEntries: count, quarantinedBlobs: count, markedSnapshots: count, clearedMarks: count, alreadyFixed: count, stoppedEarly: z.boolean(), stopReason: z.string().optional() })
        .nullable(),
    })
    .nullable(),
  /** Why it failed; on a running check, why its last attempt failed (the queue retries it). */
  error: CheckError.nullable(),
});
export type CheckRecord = z.output<typeof CheckRecord>;

/** What a request needs: the blob store (the record), the queue, a clock and a log. */
export type CheckRequestDeps = Pick<CheckDeps, 'blobs' | 'clock'> & { queue: TaskQueue; logger: Logger };

/** What the task needs: the check's deps (store, blobs, key ring) and a log. */
export type CheckTaskDeps = CheckDeps & { clock: Clock; logger: Logger };

export const CheckRequest = z.strictObject({
  uid: CheckUid,
  /** Share of content blobs to re-read, 0 to 100. @default 0: existence only */
  readDataPercent: z.number().min(0).max(100).optional(),
  /** Drop index entries that rely on lost data, quarantine corrupt blobs and mark damaged snapshots. */
  repair: z.boolean(),
  actor: z.string().min(1).max(256),
});
export type CheckRequest = z.input<typeof CheckRequest>;

/** `settings/{uid}/check`. */
export function checkRecordKey(uid: string): string {
  return settingsKey(uid, 'check');
}

/** The user's latest check, or null when none was asked for. @throws LifeboatError `data-loss` when the record does not parse */
export function readCheckRecord(deps: Pick<CheckDeps, 'blobs'>, uid: string, options: CallOptions = {}): Promise<CheckRecord | null> {
  return readStoredJson(deps.blobs, checkRecordKey(uid), CheckRecord, `stored check record of ${uid} is invalid`, options);
}

/** {@link readCheckRecord}, with a record that does not parse taken as none (logged): the next request writes a new one. */
export async function readCheckRecordLeniently(deps: Pick<CheckDeps, 'blobs'> & { logger: Logger }, uid: string): Promise<CheckRecord | null> {
  try {
    return await readCheckRecord(deps, uid);
  } catch (err) {
    if (codeOf(err) !== 'data-loss') throw err;
    deps.logger.warn(`check record of ${uid} does not parse; taken as none: ${messageOf(err)}`);
    return null;
  }
}

async function writeRecord(deps: Pick<CheckDeps, 'blobs'>, record: CheckRecord, options: CallOptions = {}): Promise<void> {
  await deps.blobs.put(checkRecordKey(record.uid), encodeStoredJson(CheckRecord.parse(record)), options);
}

/** The task id of a request: from the user and the request's time (the uid hashed: task ids take `[A-Za-z0-9_-]` only). */
export function checkTaskId(uid: string, requestedAt: number): string {
  return `check_${sha256Hex(new TextEncoder().encode(uid)).slice(0, 24)}_${requestedAt}`;
}

/** Whether a record stands for a check still to come or under way. */
export function isCheckLive(record: CheckRecord, now: number): boolean {
  return (record.status === 'queued' || record.status === 'running') && now - record.updatedAt < STALE_CHECK_MS;
}

/**
 * Asks for a check of one user: saves a `queued` record and enqueues its task, or, while a check
 * of theirs is queued or running, answers with that one's record (`started: false`).
 *
 * @throws LifeboatError `invalid-argument` for a bad request; the queue's error when the enqueue
 *   fails (the record then says `failed`, so the next request starts afresh).
 */
export async function requestCheck(deps: CheckRequestDeps, request: CheckRequest): Promise<{ record: CheckRecord; started: boolean }> {
  const parsed = CheckRequest.safeParse(request);
  if (!parsed.success) throw lifeboatError('invalid-argument', `check: ${z.prettifyError(parsed.error)}`);
  const { uid, readDataPercent, repair, actor } = parsed.data;
  const now = deps.clock.now();
  const current = await readCheckRecordLeniently(deps, uid);
  if (current && isCheckLive(current, now)) return { record: current, started: false };
  const record: CheckRecord = {
    uid,
    // Strictly after the last request, so a new request never takes an old one's task id.
    requestedAt: Math.max(now, (current?.requestedAt ?? -1) + 1),
    actor,
    repair,
    readDataPercent: readDataPercent ?? 0,
    status: 'queued',
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
    progress: null,
    result: null,
    error: null,
  };
  await writeRecord(deps, record);
  const payload: CheckTaskPayload = { kind: 'check', uid, ...(readDataPercent !== undefined ? { readDataPercent } : {}), repair, requestedAt: record.requestedAt, actor };
  try {
    await deps.queue.enqueue('maintenance', payload, { id: checkTaskId(uid, record.requestedAt) });
  } catch (err) {
    await writeRecord(deps, { ...record, status: 'failed', updatedAt: deps.clock.now(), finishedAt: deps.clock.now(), error: errorOf(err) }).catch((saveErr: unknown) =>
      deps.logger.warn(`check record not ended [uid=${uid}]: ${messageOf(saveErr)}`),
    );
    throw err;
  }
  return { record, started: true };
}

function errorOf(err: unknown): z.output<typeof CheckError> {
  return { code: codeOf(err), message: messageOf(err).slice(0, CHECK_RECORD_LIMITS.messageChars) };
}

/** A problem as a record keeps it: its first snapshots, items and index entries, with their counts. */
export function storedCheckProblem(problem: CheckProblem): StoredCheckProblem {
  const n = CHECK_RECORD_LIMITS.perProblem;
  return {
    kind: problem.kind,
    ref: problem.ref,
    message: problem.message.slice(0, CHECK_RECORD_LIMITS.messageChars),
    snapshots: problem.snapshots.slice(0, n),
    snapshotCount: problem.snapshots.length,
    items: problem.items.slice(0, n).map((i) => ({ type: i.type, sourceId: i.sourceId })),
    itemCount: problem.itemCount,
    indexEntries: problem.indexEntries.slice(0, n),
    indexEntryCount: problem.indexEntries.length,
    remains: problem.remains,
    ...(problem.repaired ? { repaired: { droppedIndexEntries: problem.repaired.droppedIndexEntries, quarantined: problem.repaired.quarantined } } : {}),
  };
}

/** A report as a record keeps it (bounded by {@link CHECK_RECORD_LIMITS}). */
export function checkResultOf(report: UserCheckReport): NonNullable<CheckRecord['result']> {
  const byKind: Partial<Record<CheckProblemKind, number>> = {};
  for (const p of report.problems) byKind[p.kind] = (byKind[p.kind] ?? 0) + 1;
  return {
    ok: report.ok,
    snapshots: report.snapshots,
    indexEntries: report.indexEntries,
    listedBlobs: report.listedBlobs,
    manifestObjects: report.manifestObjects,
    contentBlobs: report.contentBlobs,
    contentRead: report.contentRead,
    damagedSnapshots: report.damagedSnapshots.length,
    problemCount: report.problems.length,
    remaining: report.problems.filter((p) => p.remains).length,
    byKind,
    problems: report.problems.slice(0, CHECK_RECORD_LIMITS.problems).map(storedCheckProblem),
    repair: report.repair && {
      ...report.repair,
      ...(report.repair.stopReason !== undefined ? { stopReason: report.repair.stopReason.slice(0, CHECK_RECORD_LIMITS.messageChars) } : {}),
    },
  };
}

export interface CheckTaskOptions {
  /** The task's own signal (its lease or dispatch deadline): an abort by it throws, so the queue runs the task again. */
  signal?: AbortSignal;
  /** When (epoch ms, by `deps.clock`) the check stops and is recorded `deadline-exceeded`: a minute before the task's deadline. */
  stopAt: number;
}

/**
 * Runs a requested check (`maintenance` task): marks the record `running`, checks (and with
 * `repair`, repairs) until done or `stopAt`, and saves the result. A permanent failure (the data
 * key does not unwrap, the time ran out) is recorded as `failed` and the task returns; a transient
 * one is noted on the record and thrown, so the queue retries the task.
 */
export async function runCheckTask(deps: CheckTaskDeps, payload: CheckTaskPayload, options: CheckTaskOptions): Promise<void> {
  const { uid, requestedAt } = payload;
  const current = await readCheckRecordLeniently(deps, uid);
  if (!current || current.requestedAt !== requestedAt) {
    deps.logger.info('check task: a newer request replaced it; nothing to do', { uid, requestedAt });
    return;
  }
  if (current.status === 'done' || current.status === 'failed') return;
  const started: CheckRecord = { ...current, status: 'running', startedAt: deps.clock.now(), updatedAt: deps.clock.now(), progress: null };
  await writeRecord(deps, started);

  // Stops the check a minute before the task's deadline (or when the task itself is stopped).
  const stop = new AbortController();
  const outOfTime = lifeboatError('deadline-exceeded', `the check of ${uid} did not finish within its task's time; for a repository this large run lifeboat check --project P --uid ${uid}, which has no deadline`, { retryable: false });
  const left = options.stopAt - deps.clock.now();
  if (left <= 0) stop.abort(outOfTime);
  const timer = setTimeout(() => stop.abort(outOfTime), Math.max(0, left));
  const onTaskAbort = () => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onTaskAbort, { once: true });
  if (options.signal?.aborted) onTaskAbort();

  const saver = new ProgressSaver(deps, started);
  const save = async (update: Partial<CheckRecord>) => {
    await saver.idle();
    await saveIfCurrent(deps, { ...started, ...update, updatedAt: deps.clock.now() });
  };
  try {
    const report = await checkUser(deps, uid, {
      ...(payload.readDataPercent !== undefined ? { readDataPercent: payload.readDataPercent } : {}),
      repair: payload.repair,
      signal: stop.signal,
      onProgress: (progress) => saver.offer(progress),
    });
    await save({ status: 'done', finishedAt: deps.clock.now(), progress: null, result: checkResultOf(report), error: null });
    deps.logger.info('check done', { uid, requestedAt, actor: payload.actor, ok: report.ok, problems: report.problems.length, repair: report.repair });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    if (stop.signal.aborted) {
      await save({ status: 'failed', finishedAt: deps.clock.now(), error: errorOf(outOfTime) });
      deps.logger.warn(`check stopped at its deadline [uid=${uid}]`);
      return;
    }
    if (isRetryable(err)) {
      await save({ error: errorOf(err) }).catch((saveErr: unknown) => deps.logger.warn(`check record not updated [uid=${uid}]: ${messageOf(saveErr)}`));
      throw err;
    }
    await save({ status: 'failed', finishedAt: deps.clock.now(), error: errorOf(err) });
    deps.logger.warn(`check failed [uid=${uid}]: ${messageOf(err)}`);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onTaskAbort);
  }
}

/** Writes the record unless a newer request has replaced it since. */
async function saveIfCurrent(deps: CheckTaskDeps, record: CheckRecord): Promise<boolean> {
  const current = await readCheckRecordLeniently(deps, record.uid);
  if (current && current.requestedAt !== record.requestedAt) return false;
  await writeRecord(deps, record);
  return true;
}

/**
 * Saves a running check's progress at most every {@link CHECK_PROGRESS_SAVE_MS}, one write at a
 * time, in the background (a failed save is logged: progress is only shown).
 */
class ProgressSaver {
  private last: number;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: CheckTaskDeps,
    private readonly record: CheckRecord,
  ) {
    this.last = deps.clock.now();
  }

  offer(progress: CheckProgress): void {
    const now = this.deps.clock.now();
    if (now - this.last < CHECK_PROGRESS_SAVE_MS) return;
    this.last = now;
    const where = { phase: progress.phase, done: progress.done, ...(progress.total !== undefined ? { total: progress.total } : {}), problems: progress.problems };
    this.pending = this.pending
      .then(() => saveIfCurrent(this.deps, { ...this.record, updatedAt: now, progress: where }))
      .then(
        () => undefined,
        (err: unknown) => this.deps.logger.warn(`check progress not saved [uid=${this.record.uid}]: ${messageOf(err)}`),
      );
  }

  idle(): Promise<void> {
    return this.pending;
  }
}
