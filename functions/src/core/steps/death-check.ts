/**
 * The death check of a last attempt. On Firebase nothing runs after a task's last attempt: if its
 * instance dies (out of memory, timeout), Cloud Tasks drops the task and no code records why. So a
 * last attempt, before its work, writes a `started` record (step-attempts.ts) and enqueues this
 * check to run once its dispatch deadline has passed; by then the attempt has either recorded its
 * outcome or it is dead, and the check fails the job with the step, the chunk and the cause.
 *
 * Idempotent: it acts only on the `started` record of the attempt it names, and failing the job
 * replaces that record, so a second delivery finds nothing to do.
 */
import { z } from 'zod';
import type { TaskContext } from '../../ports';
import type { EngineDeps } from '../deps';
import { Sha256Hex } from '../model';
import { recordLostAttempt, type RecordedStep, type StepIds } from './step-attempts';

/** Seconds between a last attempt's dispatch deadline and its death check. */
export const DEATH_CHECK_MARGIN_SECONDS = 60;

export const DeathCheckPayload = z.object({
  jobId: z.string().min(1),
  step: z.enum(['kickoff', 'processChunk', 'finalize', 'sourcePage']),
  chunkId: Sha256Hex.optional(),
  source: z.string().min(1).optional(),
  /** The checked attempt: its task's id and retry count. */
  taskId: z.string().min(1),
  retry: z.number().int().nonnegative(),
  deadlineSeconds: z.number().positive(),
});
export type DeathCheckPayload = z.infer<typeof DeathCheckPayload>;

/** One check per attempt, so a repeated enqueue (a redelivered last attempt) schedules it once. */
export function deathCheckTaskId(taskId: string, retry: number): string {
  return `${taskId}_check_${retry}`;
}

/** Enqueues the check of a last attempt, to run after its deadline and a margin. */
export async function scheduleDeathCheck(
  deps: Pick<EngineDeps, 'queue'>,
  step: RecordedStep,
  ids: StepIds,
  context: Pick<TaskContext, 'taskId' | 'retryCount'>,
  deadlineSeconds: number,
): Promise<void> {
  const payload: DeathCheckPayload = {
    jobId: ids.jobId,
    step,
    ...(ids.chunkId ? { chunkId: ids.chunkId } : {}),
    ...(ids.source ? { source: ids.source } : {}),
    taskId: context.taskId,
    retry: context.retryCount,
    deadlineSeconds,
  };
  await deps.queue.enqueue('deathCheck', payload, {
    id: deathCheckTaskId(context.taskId, context.retryCount),
    delaySeconds: deadlineSeconds + DEATH_CHECK_MARGIN_SECONDS,
  });
}

/** Fails the job if the attempt it names still shows `started` (its worker died). */
export async function deathCheck(deps: Pick<EngineDeps, 'store' | 'clock' | 'logger'>, payload: DeathCheckPayload): Promise<void> {
  await recordLostAttempt(deps, payload.step, { jobId: payload.jobId, ...(payload.chunkId ? { chunkId: payload.chunkId } : {}), ...(payload.source ? { source: payload.source } : {}) }, {
    taskId: payload.taskId,
    retryCount: payload.retry,
    final: true,
    cause: 'unknown',
    deadlineSeconds: payload.deadlineSeconds,
    requireStarted: true,
  });
}
