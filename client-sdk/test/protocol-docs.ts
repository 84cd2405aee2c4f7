/**
 * Documents as a server answers them, for scripted servers: the SDK parses every answer with the
 * protocol's schemas (`@lifeboat/protocol`), so a scripted answer must be a whole document. Each
 * takes the fields a test cares about and fills the rest as a new job or snapshot has them.
 */
import { BackupOptions, emptyProgress, type BackupJob, type JobProgress } from '@lifeboat/protocol';

type JobFields = Omit<Partial<BackupJob>, 'progress'> & { progress?: Partial<JobProgress> };

/** A whole job document with `fields` over a queued manual contacts job's. */
export function jobDoc(fields: JobFields = {}): BackupJob {
  const { progress, ...rest } = fields;
  return {
    id: 'job-00000001',
    uid: 'user-1',
    deviceId: 'device-1',
    types: ['contacts'],
    options: BackupOptions.parse({}),
    trigger: 'manual',
    scheduleId: null,
    status: 'queued',
    phase: 'pending',
    pauseReason: null,
    attempts: 0,
    lastError: null,
    uploadCommitted: false,
    snapshotId: null,
    createdAt: 1,
    updatedAt: 1,
    startedAt: null,
    finishedAt: null,
    heartbeatAt: null,
    ...rest,
    progress: {
      ...emptyProgress(),
      ...progress,
    },
  };
}
