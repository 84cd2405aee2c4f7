/**
 * The dispatcher at scale (docs/firebase.md, "Capacity"): due schedules are dispatched by tasks,
 * not by one function run. Each minute a `page` task lists due schedules (keyset pages on
 * `(nextRunAt, id)`), enqueues the next page first and then `batch` tasks of
 * {@link DISPATCH_BATCH_SIZE} schedules each, which dispatch them (`dispatchOne`, idempotent:
 * a run's job id derives from its schedule and slot, and the schedule moves on only from that
 * slot). A burst (a time zone's 02:00) is spread: batches start up to
 * {@link DISPATCH_SPREAD_SECONDS} apart in proportion to their place in the burst, so neither the
 * queue nor the devices woken see a million at once, while a small burst starts at once.
 *
 * Task ids derive from the work (the minute, the page's cursor, the batch's first schedule), so a
 * page run twice enqueues nothing new; two overlapping minutes list the same schedules and the
 * second finds them dispatched.
 */
import { z } from 'zod';
import type { EngineDeps } from '../deps';
import { sha256Hex } from '../hash';
import type { Schedule } from '../model';
import { dispatchOne, DEFAULT_DEVICE_WAIT_HOURS, type DispatchResult } from './dispatch';

/** Due schedules one page task lists. */
export const DISPATCH_PAGE_SIZE = 2000;
/** Schedules one batch task dispatches. */
export const DISPATCH_BATCH_SIZE = 100;
/** The longest a batch of a burst waits to start. */
export const DISPATCH_SPREAD_SECONDS = 240;
/** Batches of a burst spread over DISPATCH_SPREAD_SECONDS: a burst this big is spread over all of it. */
const SPREAD_FULL_AT_BATCHES = 10_000;
/** Schedules of one batch dispatched at once. */
const BATCH_PARALLEL = 10;

const Cursor = z.object({ nextRunAt: z.number().int(), id: z.string().min(1) });

export const DispatchTaskPayload = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('page'),
    /** Schedules due by this time are dispatched (the minute the run began). */
    dueBy: z.number().int(),
    after: Cursor.optional(),
    /** Batches enqueued by the earlier pages of this run (their place in the burst). */
    batchesBefore: z.number().int().nonnegative().default(0),
  }),
  z.object({ kind: z.literal('batch'), dueBy: z.number().int(), scheduleIds: z.array(z.string().min(1)).min(1).max(DISPATCH_BATCH_SIZE) }),
]);
export type DispatchTaskPayload = z.input<typeof DispatchTaskPayload>;

const short = (s: string) => sha256Hex(new TextEncoder().encode(s)).slice(0, 16);

/** Starts a dispatch run for the schedules due by `now` (the scheduled function, each minute). */
export async function startDispatchRun(deps: Pick<EngineDeps, 'queue' | 'clock'>): Promise<void> {
  const dueBy = deps.clock.now();
  await deps.queue.enqueue('dispatch', { kind: 'page', dueBy, batchesBefore: 0 }, { id: `dispatch_${Math.floor(dueBy / 60_000)}` });
}

/** Where a batch starts in its burst, in seconds: 0 for the first batches, the whole spread from SPREAD_FULL_AT_BATCHES on. */
export function batchDelaySeconds(ordinal: number): number {
  return Math.min(DISPATCH_SPREAD_SECONDS, Math.floor((ordinal * DISPATCH_SPREAD_SECONDS) / SPREAD_FULL_AT_BATCHES));
}

/** Lists one page of due schedules and enqueues the next page, then its batches. */
export async function dispatchPage(deps: EngineDeps, payload: Extract<z.output<typeof DispatchTaskPayload>, { kind: 'page' }>): Promise<{ listed: number; batches: number }> {
  const due = await deps.store.listDueSchedules({ dueBy: payload.dueBy, limit: DISPATCH_PAGE_SIZE, ...(payload.after ? { after: payload.after } : {}) });
  const batches = Math.ceil(due.length / DISPATCH_BATCH_SIZE);
  const last = due[due.length - 1];
  if (due.length === DISPATCH_PAGE_SIZE && last) {
    // The next page first: listing goes on while this page's batches run.
    const after = { nextRunAt: last.nextRunAt, id: last.id };
    await deps.queue.enqueue(
      'dispatch',
      { kind: 'page', dueBy: payload.dueBy, after, batchesBefore: payload.batchesBefore + batches },
      { id: `dispatch_${payload.dueBy}_${after.nextRunAt}_${short(after.id)}` },
    );
  }
  for (let b = 0; b < batches; b++) {
    const scheduleIds = due.slice(b * DISPATCH_BATCH_SIZE, (b + 1) * DISPATCH_BATCH_SIZE).map((s) => s.id);
    await deps.queue.enqueue(
      'dispatch',
      { kind: 'batch', dueBy: payload.dueBy, scheduleIds },
      { id: `dispatch_${payload.dueBy}_b_${short(scheduleIds[0] as string)}`, delaySeconds: batchDelaySeconds(payload.batchesBefore + b) },
    );
  }
  return { listed: due.length, batches };
}

/** Dispatches a batch: each schedule read again (it may have moved on), a few at once. */
export async function dispatchBatch(deps: EngineDeps, scheduleIds: readonly string[], options: { deviceWaitHours?: number } = {}): Promise<DispatchResult> {
  const now = deps.clock.now();
  const result: DispatchResult = { created: [], skipped: [], expired: [] };
  const wait = options.deviceWaitHours ?? DEFAULT_DEVICE_WAIT_HOURS;
  for (let i = 0; i < scheduleIds.length; i += BATCH_PARALLEL) {
    await Promise.all(
      scheduleIds.slice(i, i + BATCH_PARALLEL).map(async (id) => {
        const schedule: Schedule | null = await deps.store.getSchedule(id);
        if (!schedule || !schedule.enabled) return void result.skipped.push({ scheduleId: id, reason: 'disabled' });
        if (schedule.nextRunAt > now) return void result.skipped.push({ scheduleId: id, reason: 'not-due' });
        await dispatchOne(deps, schedule, now, wait, result);
      }),
    );
  }
  return result;
}

/** The `dispatch` queue's handler. */
export async function runDispatchTask(deps: EngineDeps, payload: z.output<typeof DispatchTaskPayload>, options: { deviceWaitHours?: number } = {}): Promise<void> {
  if (payload.kind === 'page') {
    const page = await dispatchPage(deps, payload);
    deps.logger.info('schedules listed for dispatch', { dueBy: payload.dueBy, ...page });
    return;
  }
  const result = await dispatchBatch(deps, payload.scheduleIds, options);
  deps.logger.info('schedules dispatched', { created: result.created.length, skipped: result.skipped.length, expired: result.expired.length });
}
