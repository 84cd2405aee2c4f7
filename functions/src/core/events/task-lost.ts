import type { QueueName, TaskPayload } from '../../ports';
import type { EngineDeps } from '../deps';
import { ChunkTaskPayload, JobTaskPayload, SourcePageTaskPayload } from '../steps/payloads';
import { isRecordedStep, recordLostAttempt, type LostAttempt, type RecordedStep, type StepIds } from '../steps/step-attempts';

/** What a queue knows of an attempt that ended without its handler's outcome: the lost attempt, and the task it belongs to. */
export interface TaskLostEvent extends Pick<LostAttempt, 'taskId' | 'retryCount' | 'final' | 'cause' | 'deadlineSeconds' | 'detail'> {
  queue: QueueName;
  payload: TaskPayload;
}

/** The ids of a step's payload, or null when it does not parse (such a task never ran a step). */
function stepIds(queue: RecordedStep, payload: TaskPayload): StepIds | null {
  if (queue === 'processChunk') {
    const parsed = ChunkTaskPayload.safeParse(payload);
    return parsed.success ? parsed.data : null;
  }
  if (queue === 'sourcePage') {
    const parsed = SourcePageTaskPayload.safeParse(payload);
    return parsed.success ? { jobId: parsed.data.jobId, source: parsed.data.source } : null;
  }
  const parsed = JobTaskPayload.safeParse(payload);
  return parsed.success ? { jobId: parsed.data.jobId } : null;
}

/**
 * "A task attempt was lost" (the embedded queue: a worker thread that ran out of memory, crashed
 * or was stopped at its deadline; a lease that ran out after the last attempt; a last attempt
 * whose handler threw without recording): records it on the job through the step's attempt
 * record, so the job shows the cause at once and fails after the last attempt
 * (core/steps/step-attempts.ts). A lost death check is only logged: its job is recorded by the
 * step it checked or by the stale-job sweeper, and so is a lost upkeep task (schedule dispatch,
 * maintenance), which belongs to no job.
 */
export async function onTaskLost(deps: Pick<EngineDeps, 'store' | 'clock' | 'logger'>, event: TaskLostEvent): Promise<void> {
  const { queue } = event;
  const ids = isRecordedStep(queue) ? stepIds(queue, event.payload) : null;
  if (!isRecordedStep(queue) || !ids) {
    deps.logger.warn(`lost ${queue} task not recorded on a job`, { task: event.taskId, retryCount: event.retryCount, cause: event.cause });
    return;
  }
  await recordLostAttempt(deps, queue, ids, {
    taskId: event.taskId,
    retryCount: event.retryCount,
    final: event.final,
    cause: event.cause,
    ...(event.deadlineSeconds !== undefined ? { deadlineSeconds: event.deadlineSeconds } : {}),
    ...(event.detail !== undefined ? { detail: event.detail } : {}),
  });
}
