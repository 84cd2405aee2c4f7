/**
 * Documents as a server answers them, for scripted servers: the SDK parses every answer with the
 * protocol's schemas (`@lifeboat/protocol`), so a scripted answer must be a whole document. The
 * store tests' builder (`makeJob`, checked against the schema) with a partial `progress` merged
 * over an empty one, as these tests give only the counters they watch.
 */
import { emptyProgress, type BackupJob, type JobProgress } from '@lifeboat/protocol';
import { makeJob } from '../../functions/test/conformance/fixtures';

type JobFields = Omit<Partial<BackupJob>, 'progress'> & { progress?: Partial<JobProgress> };

/** A whole job document with `fields` over a queued manual job's. */
export function jobDoc(fields: JobFields = {}): BackupJob {
  const { progress, ...rest } = fields;
  return makeJob({ ...rest, progress: { ...emptyProgress(), ...progress } });
}
