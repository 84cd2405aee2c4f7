import type { JobStore } from '../../ports';
import type { BackupJob } from '../model';
import { override } from '../override';

/**
 * A stand-in for Firestore's `onDocumentCreated` where there is no Firestore (the embedded
 * runtime, engine tests): a JobStore that calls `onCreated` after a job document is newly
 * created, so every way of creating a job starts it, exactly as the trigger does on Firebase.
 */
export function withJobCreatedTrigger(store: JobStore, onCreated: (job: BackupJob) => Promise<void>): JobStore {
  return override(store, {
    async createJob(job, options) {
      const result = await store.createJob(job, options);
      if (result.created) await onCreated(job);
      return result;
    },
  });
}
