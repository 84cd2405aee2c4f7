/** `lifeboat jobs` and `lifeboat snapshots`: the newest jobs (a user's, or everyone's, filtered) and a user's snapshots. */
import { BACKUP_TYPES, JOB_STATUSES, type BackupJob, type Snapshot } from '@lifeboat/engine/core';
import { usageError } from './cli-error';
import { intOption, requiredOption, stringOption, type CommandHandler, type CommandInput } from './command';
import { EXIT } from './spec';

/** An option that must be one of `values`. */
function choice<T extends string>(input: CommandInput, name: string, values: readonly T[]): T | undefined {
  const value = stringOption(input, name);
  if (value === undefined) return undefined;
  if (!(values as readonly string[]).includes(value)) usageError(`--${name} must be one of ${values.join(', ')}, got ${value}`);
  return value as T;
}

export const listJobs: CommandHandler = async (input, { data }) => {
  const uid = stringOption(input, 'uid');
  const status = choice(input, 'status', JOB_STATUSES);
  const type = choice(input, 'type', BACKUP_TYPES);
  const deviceId = stringOption(input, 'device');
  const limit = intOption(input, 'limit', 1, 100, 50);
  // A user alone is the engine's own query; anything else is the admin store's, across users.
  const jobs: BackupJob[] = [];
  if (uid !== undefined && deviceId === undefined && type === undefined) {
    jobs.push(...(await data.store.listJobs({ uid, limit, ...(status ? { status } : {}) })).items);
  } else {
    let cursor: string | undefined;
    do {
      const page = await data.admin.listJobs({ limit, ...(uid !== undefined ? { uid } : {}), ...(status ? { status } : {}), ...(deviceId !== undefined ? { deviceId } : {}), ...(type ? { type } : {}), ...(cursor ? { cursor } : {}) });
      jobs.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && jobs.length < limit);
  }
  const items = jobs.slice(0, limit);
  const lines = items.map((j) => {
    const p = j.progress;
    return (
      `${j.id}  ${new Date(j.createdAt).toISOString()}  ${uid === undefined ? `${j.uid}  ` : ''}${j.status.padEnd(9)} ${j.phase.padEnd(10)} ` +
      `items ${p.processedItems}/${p.totalItems}  uploaded ${p.bytesUploaded} B  stored ${p.bytesStored} B` +
      `${j.snapshotId ? `  ${j.snapshotId}` : ''}${j.lastError ? `  error: ${j.lastError.message}` : ''}`
    );
  });
  return { exitCode: EXIT.ok, data: items, text: `${lines.length > 0 ? lines.join('\n') : 'no jobs'}\n` };
};

/** One snapshot as the listing shows it. */
export function snapshotLine(s: Snapshot): string {
  return (
    `${s.id}  ${new Date(s.createdAt).toISOString()}  ${s.deviceId}  ${s.types.join(',')}  items ${s.totals.items}` +
    ` (skipped ${s.totals.skippedItems})  original ${s.totals.originalBytes} B  stored ${s.totals.storedBytes} B` +
    `${s.health ? `  ${s.health.ok ? 'verified' : `${s.health.problems} problem(s)`}` : ''}`
  );
}

export const listSnapshots: CommandHandler = async (input, { data }) => {
  const uid = requiredOption(input, 'uid', 'snapshots');
  const device = stringOption(input, 'device');
  const limit = intOption(input, 'limit', 1, 100, 50);
  const found: Snapshot[] = [];
  let cursor: string | undefined;
  do {
    const page = await data.store.listSnapshots({ uid, limit: 100, ...(cursor ? { cursor } : {}) });
    found.push(...page.items.filter((s) => device === undefined || s.deviceId === device));
    cursor = page.nextCursor;
  } while (cursor && found.length < limit);
  const items = found.slice(0, limit);
  return { exitCode: EXIT.ok, data: items, text: `${items.length > 0 ? items.map(snapshotLine).join('\n') : 'no snapshots'}\n` };
};
