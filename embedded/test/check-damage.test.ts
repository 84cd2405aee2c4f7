/**
 * `check` and `check --repair` on the embedded runtime's stores (SQLite, the blob folder,
 * encryption at rest), with backups from the real SDK (issue 14, item 1): each kind of object
 * deleted or with a byte flipped on disk (content blob, chunk result, manifest root and node, chat
 * watermarks, index entry, snapshot record) is named with what it breaks; after the repair the
 * next backup succeeds, and a second check is clean apart from the snapshots that really lost
 * data, which stay marked.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  blobKey, checkUser, contentStoreOf, loadManifest, manifestObjects, type CheckOptions, type CheckProblem, type ChunkIndexEntry, type Snapshot, type UserCheckReport,
} from '@lifeboat/engine/core';
import { demoContacts, demoDeviceInfo, demoMessages } from '../src/demo-data';
import { useTestRuntime } from './helpers/test-runtime';

let offset = 0;
/** The runtime's clock runs ahead on demand: a damage mark counts for backups created a minute after it. */
const t = useTestRuntime('check-damage', { clock: { now: () => Date.now() + offset } });
const MINUTE = 60_000;
const contacts = demoContacts({ contacts: 30, seed: 11 });
const messages = demoMessages({ messages: 20, conversations: 2, seed: 3 });
const info = (model: string) => ({ ...demoDeviceInfo(), model });

async function backup(uid: string, model: string) {
  const c = t.client(uid, { deviceId: 'phone' });
  const started = await c.startBackup({ types: ['contacts', 'chats', 'deviceInfo'], sources: { contacts, chats: messages, deviceInfo: info(model) } });
  const job = await c.waitForJob(started.jobId, { intervalMs: 20 });
  return { job, snapshot: job.snapshotId ? await c.getSnapshot(job.snapshotId) : null };
}

/** Two backups of `uid`: S1 and S2 share the contacts and chats; their device info differs. */
async function setup(uid: string): Promise<{ s1: Snapshot; s2: Snapshot }> {
  const one = await backup(uid, 'Pixel 8');
  const two = await backup(uid, 'Pixel 9');
  expect([one.job.status, two.job.status]).toEqual(['completed', 'completed']);
  return { s1: one.snapshot as Snapshot, s2: two.snapshot as Snapshot };
}

const fileOf = (uid: string, hash: string) => join(t.dataDir, 'blobs', 'objects', blobKey(uid, hash));
const remove = (uid: string, hash: string) => rmSync(fileOf(uid, hash));
function flip(uid: string, hash: string): void {
  const bytes = readFileSync(fileOf(uid, hash));
  bytes[bytes.length - 3] = (bytes[bytes.length - 3] ?? 0) ^ 0x5a;
  writeFileSync(fileOf(uid, hash), bytes);
}

async function itemBlob(snapshot: Snapshot, type: string): Promise<string> {
  const item = (await loadManifest(contentStoreOf(t.runtime.deps), snapshot)).items.find((i) => i.type === type && i.blob);
  return item?.blob as string;
}

/** Manifest objects of a kind in `snapshot`, without those `other` shares. */
async function objects(snapshot: Snapshot, kind: 'node' | 'segment' | 'watermarks', other?: Snapshot): Promise<string[]> {
  const of = async (s: Snapshot) => {
    const refs: string[] = [];
    for await (const o of manifestObjects(contentStoreOf(t.runtime.deps), s)) if (o.kind === kind) refs.push(o.ref);
    return refs;
  };
  const shared = new Set(other ? await of(other) : []);
  return (await of(snapshot)).filter((r) => !shared.has(r));
}

async function entries(uid: string): Promise<ChunkIndexEntry[]> {
  return (await t.runtime.deps.store.listChunkIndex({ uid, limit: 500 })).items;
}

/** Rewrites a stored document as a flipped byte would: SQL, as the damage happens under the store. */
function rewrite(table: 'snapshots' | 'chunk_index', where: { id?: string; key?: string }, change: (doc: Record<string, unknown>) => void): void {
  const column = where.id !== undefined ? 'id' : 'key';
  const row = t.runtime.db.prepare(`SELECT doc FROM ${table} WHERE ${column} = ?`).get(where.id ?? where.key) as { doc: string };
  const doc = JSON.parse(row.doc) as Record<string, unknown>;
  change(doc);
  t.runtime.db.prepare(`UPDATE ${table} SET doc = ? WHERE ${column} = ?`).run(JSON.stringify(doc), where.id ?? where.key);
}

const flipHex = (hex: string) => `${hex.slice(0, 7)}${hex[7] === 'a' ? 'b' : 'a'}${hex.slice(8)}`;
const check = (uid: string, options: CheckOptions = {}) => checkUser(t.runtime.deps, uid, options);
function only(report: UserCheckReport): CheckProblem {
  expect(report.problems.map((p) => p.kind)).toHaveLength(1);
  return report.problems[0] as CheckProblem;
}

/** Repair, the next backup (a while later, so the marks count), and a second check. */
async function repairThenBackUp(uid: string, options: CheckOptions = {}) {
  const repaired = await check(uid, { ...options, repair: true });
  expect(repaired.repair?.stoppedEarly).toBe(false);
  offset += 2 * MINUTE;
  const next = await backup(uid, 'Pixel 9');
  expect([next.job.status, next.job.lastError?.message]).toEqual(['completed', undefined]);
  return { repaired, next, second: await check(uid, options) };
}

describe('check on the embedded stores', () => {
  it('finds nothing wrong with a sound repository and reads every content blob with --read-data', async () => {
    await setup('ann');
    const report = await check('ann', { readDataPercent: 100 });
    expect(report).toMatchObject({ ok: true, problems: [], snapshots: 2 });
    expect(report.contentRead).toBe(report.contentBlobs);
    expect(report.contentBlobs).toBeGreaterThan(2);
  });

  it('a content blob lost that the device still has: the repair drops the entries relying on it, the next backup stores it again', async () => {
    const { s1, s2 } = await setup('ben');
    const pack = await itemBlob(s1, 'contacts');
    remove('ben', pack);
    const found = only(await check('ben'));
    expect(found).toMatchObject({ kind: 'missing-blob', ref: pack, snapshots: [s2.id, s1.id] });
    expect(found.indexEntries.length).toBeGreaterThan(0);
    expect(found.itemCount).toBeGreaterThan(0);
    const { second } = await repairThenBackUp('ben');
    expect(second).toMatchObject({ ok: true, problems: [] });
  });

  it('a content blob lost that the device no longer has: the snapshot stays marked', async () => {
    const { s1 } = await setup('cal');
    const old = await itemBlob(s1, 'deviceInfo');
    remove('cal', old);
    expect(only(await check('cal'))).toMatchObject({ kind: 'missing-blob', ref: old, snapshots: [s1.id], items: [{ type: 'deviceInfo' }] });
    const { second } = await repairThenBackUp('cal');
    expect(only(second)).toMatchObject({ kind: 'missing-blob', snapshots: [s1.id], indexEntries: [], remains: true });
    expect((await t.runtime.deps.store.getSnapshot(s1.id))?.health).toMatchObject({ ok: false, problems: 1 });
  });

  it('a content blob with a flipped byte: found by --read-data, quarantined, stored again', async () => {
    const { s1 } = await setup('dee');
    const pack = await itemBlob(s1, 'chats');
    flip('dee', pack);
    expect((await check('dee')).ok).toBe(true);
    expect(only(await check('dee', { readDataPercent: 100 }))).toMatchObject({ kind: 'corrupt-blob', ref: pack });
    const { repaired, second } = await repairThenBackUp('dee', { readDataPercent: 100 });
    expect(repaired.repair?.quarantinedBlobs).toBe(1);
    expect(second).toMatchObject({ ok: true, problems: [] });
  });

  it('a chunk result lost or flipped: named with its snapshots and index entry, stored again', async () => {
    const { s1, s2 } = await setup('eve');
    const [own] = await objects(s2, 'segment', s1);
    remove('eve', own as string);
    const entry = (await entries('eve')).find((e) => e.resultRef === own);
    expect(only(await check('eve'))).toMatchObject({ kind: 'missing-segment', ref: own, snapshots: [s2.id], indexEntries: [entry?.key] });
    expect((await repairThenBackUp('eve')).second).toMatchObject({ ok: true, problems: [] });

    const again = await setup('fay');
    const [shared] = await objects(again.s1, 'segment');
    flip('fay', shared as string);
    expect(only(await check('fay'))).toMatchObject({ kind: 'corrupt-segment', ref: shared, snapshots: expect.arrayContaining([again.s1.id]) });
    expect((await repairThenBackUp('fay')).second).toMatchObject({ ok: true, problems: [] });
  });

  it('a manifest root lost: the next backup fails on it until the repair marks it', async () => {
    const { s1, s2 } = await setup('gus');
    remove('gus', s2.manifestRef);
    expect(only(await check('gus'))).toMatchObject({ kind: 'missing-manifest', ref: s2.manifestRef, snapshots: [s2.id], itemCount: s2.totals.items });
    const failed = await backup('gus', 'Pixel 9');
    expect(failed.job.status).toBe('failed');
    const { next, second } = await repairThenBackUp('gus');
    expect(next.snapshot?.parentId).toBe(s1.id);
    expect(second).toMatchObject({ ok: true, problems: [] });
    expect((await t.runtime.deps.store.getSnapshot(s2.id))?.health).toMatchObject({ ok: false, manifestDamaged: true });
  });

  it('a manifest node flipped and the chat watermarks lost: named, marked, stored again', async () => {
    const { s1, s2 } = await setup('hal');
    const [node] = await objects(s2, 'node', s1);
    const [marks] = await objects(s2, 'watermarks');
    flip('hal', node as string);
    remove('hal', marks as string);
    const report = await check('hal');
    expect(report.problems.map((p) => [p.kind, p.ref])).toEqual(expect.arrayContaining([['corrupt-node', node], ['missing-watermarks', marks]]));
    expect(report.damagedSnapshots.map((d) => [d.id, d.manifestDamaged])).toEqual(expect.arrayContaining([[s2.id, true], [s1.id, true]]));
    expect((await repairThenBackUp('hal')).second).toMatchObject({ ok: true, problems: [] });
  });

  it('an index entry with a flipped result, or that does not parse: dropped, and nothing remains', async () => {
    await setup('ida');
    const [first, second] = await entries('ida');
    rewrite('chunk_index', { key: first?.key as string }, (doc) => (doc['resultRef'] = flipHex(String(doc['resultRef']))));
    rewrite('chunk_index', { key: second?.key as string }, (doc) => (doc['items'] = 'many'));
    const report = await check('ida');
    expect(report.problems.map((p) => [p.kind, p.indexEntries, p.snapshots])).toEqual(
      expect.arrayContaining([['missing-segment', [first?.key], []], ['corrupt-index-entry', [second?.key], []]]),
    );
    const { repaired, second: again } = await repairThenBackUp('ida');
    expect(repaired).toMatchObject({ ok: true, repair: { droppedIndexEntries: 2, markedSnapshots: 0 } });
    expect(again).toMatchObject({ ok: true, problems: [] });
  });

  it('a snapshot record with a flipped manifest reference or a field that does not parse', async () => {
    const { s1, s2 } = await setup('jon');
    rewrite('snapshots', { id: s2.id }, (doc) => (doc['manifestRef'] = flipHex(String(doc['manifestRef']))));
    rewrite('snapshots', { id: s1.id }, (doc) => (doc['createdAt'] = 'yesterday'));
    const report = await check('jon');
    expect(report.problems.map((p) => [p.kind, p.snapshots])).toEqual(
      expect.arrayContaining([['missing-manifest', [s2.id]], ['corrupt-snapshot-record', [s1.id]]]),
    );
    const { repaired, second } = await repairThenBackUp('jon');
    expect(repaired.repair?.markedSnapshots).toBe(1);
    // Both really lost what they named: they stay.
    expect(second.problems.map((p) => [p.kind, p.remains]).sort()).toEqual([['corrupt-snapshot-record', true], ['missing-manifest', true]]);
  });
});
