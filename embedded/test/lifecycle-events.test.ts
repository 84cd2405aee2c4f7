/**
 * Lifecycle events on the embedded runtime: the host's hook (`onLifecycleEvent`) hears of a
 * completed backup once its state is committed, and every event is logged.
 */
import { LIFECYCLE_EVENT_TYPES, type LifecycleEvent, type Logger } from '@lifeboat/engine/ports';
import { useTestRuntime } from './helpers/test-runtime';

const heard: LifecycleEvent[] = [];
const logged: string[] = [];
const logger: Logger = { info: (m) => void logged.push(m), warn: () => {}, error: () => {} };
const t = useTestRuntime('events', { onLifecycleEvent: (event) => void heard.push(event), logger });

describe('embedded lifecycle events', () => {
  it('calls the hook with a completed backup and logs it', async () => {
    const client = t.client('eve');
    const { jobId } = await client.startBackup({ types: ['contacts'], options: { wifiOnly: false }, sources: { contacts: [{ id: 'c1', name: { display: 'C' } }] as never } });
    const job = await client.waitForJob(jobId, { intervalMs: 50, maxIntervalMs: 200 });
    expect(job.status).toBe('completed');
    expect(heard).toEqual([expect.objectContaining({ type: LIFECYCLE_EVENT_TYPES.backupCompleted, subject: `backupJobs/${jobId}`, data: expect.objectContaining({ uid: 'eve', snapshotId: job.snapshotId }) })]);
    expect(logged).toContain(`lifeboat event ${LIFECYCLE_EVENT_TYPES.backupCompleted}`);
  });
});
