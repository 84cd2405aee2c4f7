import type { CallOptions, JobStore } from '../../ports';
import type { BackupJob } from '../model';

/**
 * A stand-in for Firestore's `onDocumentCreated` where there is no Firestore (the embedded runtime,
 * engine tests): a JobStore that calls `onCreated`
 * after a job document is created (and only when it was newly created), so every way of creating
 * a job starts it, exactly as the trigger does on Firebase.
 */
export function withJobCreatedTrigger(store: JobStore, onCreated: (job: BackupJob) => Promise<void>): JobStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'createJob') {
        return async (job: BackupJob, options?: CallOptions) => {
          const result = await target.createJob(job, options);
          if (result.created) await onCreated(job);
          return result;
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
