import { z } from 'zod';
import { QUEUE_NAMES, type QueueSample } from '../../ports';
import type { AdminDeps } from './admin-deps';

const count = z.number().int().nonnegative();

/**
 * The schema of a stored {@link QueueSample}, which stores parse on read. It lives here, beside
 * what makes samples, because ports import no package; `satisfies` keeps what it parses a
 * `QueueSample`.
 */
export const QueueSampleSchema = z.object({
  at: z.number().int(),
  queues: z.partialRecord(z.enum(QUEUE_NAMES), z.object({ depth: count, running: count })),
}) satisfies z.ZodType<QueueSample>;

/**
 * Records the depth of every queue now (the dashboard's "queue depth over time"): embedded every
 * minute, on Firebase every five minutes (`sampleQueues`). A sample costs one write.
 */
export async function sampleQueues(deps: Pick<AdminDeps, 'admin' | 'queues' | 'clock'>): Promise<QueueSample> {
  const overview = await deps.queues.overview();
  const sample: QueueSample = { at: deps.clock.now(), queues: Object.fromEntries(overview.queues.map((q) => [q.name, { depth: q.depth, running: q.running }])) };
  await deps.admin.recordQueueSample(sample);
  return sample;
}
