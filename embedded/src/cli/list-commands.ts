/** `lifeboat jobs` and `lifeboat snapshots`: a user's newest jobs and snapshots. */
import type { Snapshot } from '@lifeboat/functions/core';
import { intOption, requiredOption, stringOption, type CommandHandler } from './command';
import { EXIT } from './spec';

export const listJobs: CommandHandler = async (input, { data }) => {
  const uid = requiredOption(input, 'uid', 'jobs');
  const page = await data.store.listJobs({ uid, limit: intOption(input, 'limit', 1, 100, 50) });
  const lines = page.items.map((j) => {
    const p = j.progress;
    return (
      `${j.id}  ${new Date(j.createdAt).toISOString()}  ${j.status.padEnd(9)} ${j.phase.padEnd(10)} ` +
      `items ${p.processedItems}/${p.totalItems}  uploaded ${p.bytesUploaded} B  stored ${p.bytesStored} B` +
      `${j.snapshotId ? `  ${j.snapshotId}` : ''}${j.lastError ? `  error: ${j.lastError.message}` : ''}`
    );
  });
  return { exitCode: EXIT.ok, data: page.items, text: `${lines.length > 0 ? lines.join('\n') : 'no jobs'}\n` };
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
