/**
 * `lifeboat stats [SNAPSHOT]`: one snapshot's figures (totals, per type, what changed since its
 * parent, health), or with `--uid` alone the user's: snapshots per device, and what their blobs
 * take in storage once deduplicated. Read from snapshot records and a listing of the user's blobs;
 * no manifest or blob is read.
 */
import type { BackupType, Snapshot, SnapshotChanges, SnapshotTotals, TypeProgress } from '@lifeboat/engine/core';
import { stringOption, type CommandHandler } from './command';
import { usageError } from './cli-error';
import { formatBytes } from './progress';
import { snapshotArg } from './snapshot-arg';
import { EXIT } from './spec';

export interface SnapshotStats {
  snapshot: string;
  uid: string;
  deviceId: string;
  createdAt: number;
  parentId: string | null;
  types: BackupType[];
  totals: SnapshotTotals;
  byType: Partial<Record<BackupType, TypeProgress>>;
  changes: Partial<Record<BackupType, SnapshotChanges>> | null;
  health: Snapshot['health'];
}

export interface UserStats {
  uid: string;
  snapshots: number;
  /** Per device: its snapshots, newest first, and the types they hold. */
  devices: Array<{ deviceId: string; snapshots: number; latest: string; latestAt: number; types: BackupType[] }>;
  /** Sums over the snapshots (logical: a blob shared by two snapshots counts twice). */
  totals: { items: number; originalBytes: number; storedBytes: number };
  /** The user's blobs as stored: each once, whatever the number of snapshots using it. */
  storage: { blobs: number; bytes: number };
  /** Snapshots whose last verify found problems. */
  unhealthy: string[];
}

function snapshotStats(s: Snapshot): SnapshotStats {
  return {
    snapshot: s.id, uid: s.uid, deviceId: s.deviceId, createdAt: s.createdAt, parentId: s.parentId, types: s.types,
    totals: s.totals, byType: s.byType, changes: s.changes ?? null, health: s.health,
  };
}

function snapshotText(s: SnapshotStats): string {
  const lines = [
    `${s.snapshot}  user ${s.uid}  device ${s.deviceId}  ${new Date(s.createdAt).toISOString()}${s.parentId ? `  parent ${s.parentId}` : ''}`,
    `  items ${s.totals.items} (skipped ${s.totals.skippedItems}) in ${s.totals.chunks} chunk(s), original ${formatBytes(s.totals.originalBytes)}, stored ${formatBytes(s.totals.storedBytes)}`,
  ];
  for (const type of s.types) {
    const t = s.byType[type];
    const c = s.changes?.[type];
    lines.push(
      `  ${type.padEnd(10)} ${t ? `items ${t.items} (skipped ${t.skipped}), ${formatBytes(t.bytes)}` : 'no counts'}` +
        (c ? `; since parent: ${c.added} added, ${c.changed} changed, ${c.removed} removed, ${c.unchanged} unchanged, ${c.carried} carried` : ''),
    );
  }
  lines.push(`  health: ${s.health ? `${s.health.ok ? 'OK' : `${s.health.problems} problem(s)`} (${s.health.checkedBlobs} blobs checked ${new Date(s.health.checkedAt).toISOString()})` : 'never verified'}`);
  return `${lines.join('\n')}\n`;
}

async function userStats(deps: Parameters<CommandHandler>[1], uid: string): Promise<UserStats> {
  const all: Snapshot[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.data.store.listSnapshots({ uid, limit: 100, ...(cursor ? { cursor } : {}) });
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  const devices = new Map<string, UserStats['devices'][number]>();
  for (const s of all) {
    const d = devices.get(s.deviceId) ?? { deviceId: s.deviceId, snapshots: 0, latest: s.id, latestAt: s.createdAt, types: [] };
    d.snapshots += 1;
    for (const t of s.types) if (!d.types.includes(t)) d.types.push(t);
    devices.set(s.deviceId, d);
  }
  const storage = { blobs: 0, bytes: 0 };
  for await (const blob of deps.data.blobs.list(`users/${uid}/blobs/`)) {
    storage.blobs += 1;
    storage.bytes += blob.size;
  }
  return {
    uid,
    snapshots: all.length,
    devices: [...devices.values()],
    totals: all.reduce((n, s) => ({ items: n.items + s.totals.items, originalBytes: n.originalBytes + s.totals.originalBytes, storedBytes: n.storedBytes + s.totals.storedBytes }), { items: 0, originalBytes: 0, storedBytes: 0 }),
    storage,
    unhealthy: all.filter((s) => s.health && !s.health.ok).map((s) => s.id),
  };
}

function userText(u: UserStats): string {
  const lines = [`user ${u.uid}: ${u.snapshots} snapshot(s) on ${u.devices.length} device(s)`];
  for (const d of u.devices) lines.push(`  ${d.deviceId}: ${d.snapshots} snapshot(s) of ${d.types.join(',')}, latest ${d.latest} (${new Date(d.latestAt).toISOString()})`);
  lines.push(`  items over all snapshots ${u.totals.items}, original ${formatBytes(u.totals.originalBytes)}, stored ${formatBytes(u.totals.storedBytes)} (shared blobs counted in each)`);
  lines.push(`  storage: ${u.storage.blobs} blob(s), ${formatBytes(u.storage.bytes)} (each blob once)`);
  if (u.unhealthy.length > 0) lines.push(`  last verify found problems in: ${u.unhealthy.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

export const statsCommand: CommandHandler = async (input, deps) => {
  if (input.positionals.length > 0) {
    const stats = snapshotStats(await snapshotArg(input, deps));
    return { exitCode: EXIT.ok, data: stats, text: snapshotText(stats) };
  }
  const uid = stringOption(input, 'uid');
  if (!uid) usageError('stats needs a SNAPSHOT or --uid');
  const stats = await userStats(deps, uid);
  return { exitCode: EXIT.ok, data: stats, text: userText(stats) };
};
