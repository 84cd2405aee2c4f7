import type { QueueSample } from '../../ports';
import type { AdminDeps } from './admin-deps';

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
