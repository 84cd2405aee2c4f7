/**
 * Rows changed behind the stores' back (written straight into the table) are parsed, not cast:
 * reading one is `data-loss` naming its table and key, and nothing stored changes.
 */
import { makeChunk, makeJob, makeSnapshot } from '../../functions/test/conformance/fixtures';
import { openDatabase, SqliteJobStore, type Database } from '../src/adapters';
import { SqliteAdminStore } from '../src/adapters/sqlite-admin-store';

/** Every row of every table, to compare before and after. */
function dump(db: Database): Record<string, unknown[]> {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
  return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()]));
}

/** The doc of one row with `field` removed. */
function withoutField(db: Database, table: string, where: string, field: string): void {
  db.prepare(`UPDATE ${table} SET doc = json_remove(doc, '$.${field}') WHERE ${where}`).run();
}

const dataLoss = (document: string) => ({ code: 'data-loss', retryable: false, details: expect.objectContaining({ document }) });

describe('SQLite rows that do not parse', () => {
  let db: Database;
  let store: SqliteJobStore;
  let admin: SqliteAdminStore;

  beforeEach(async () => {
    db = openDatabase(':memory:');
    store = new SqliteJobStore(db);
    admin = new SqliteAdminStore(db);
    await store.createJob(makeJob({ id: 'j1' }));
    await store.createJob(makeJob({ id: 'j2', createdAt: 1 }));
    await store.runTransaction(async (tx) => {
      tx.setChunk(makeChunk('j2', 0));
      tx.setChunk(makeChunk('j2', 1));
      tx.setSnapshot(makeSnapshot({ id: 'snap-1' }));
      tx.setSnapshot(makeSnapshot({ id: 'snap-2', createdAt: 1 }));
    });
  });

  afterEach(() => db.close());

  it('a job that is not JSON is data-loss on every read, and a transaction over it writes nothing', async () => {
    db.prepare(`UPDATE jobs SET doc = '{"id": "j1", "uid"' WHERE id = 'j1'`).run();
    const before = dump(db);
    await expect(store.getJob('j1')).rejects.toMatchObject(dataLoss('jobs/j1'));
    await expect(store.listJobs({ uid: 'u1' })).rejects.toMatchObject(dataLoss('jobs/j1'));
    await expect(admin.listJobs({})).rejects.toMatchObject(dataLoss('jobs/j1'));
    expect(() => store.recentJobs(10)).toThrow(expect.objectContaining(dataLoss('jobs/j1')));
    await expect(store.runTransaction(async (tx) => tx.getJob('j1'))).rejects.toMatchObject(dataLoss('jobs/j1'));
    // The increment reads the job at commit, after the other write was applied: both roll back.
    const changed = store.runTransaction(async (tx) => {
      tx.setJob(makeJob({ id: 'j2', createdAt: 1, attempts: 7 }));
      tx.incrementJob('j1', { counters: { processedChunks: 1 } });
    });
    await expect(changed).rejects.toMatchObject(dataLoss('jobs/j1'));
    expect(dump(db)).toStrictEqual(before);
    expect(await store.getJob('j2')).toStrictEqual(makeJob({ id: 'j2', createdAt: 1 }));
  });

  it('a chunk missing a required field is data-loss naming its job and id', async () => {
    const bad = makeChunk('j2', 1);
    withoutField(db, 'chunks', `chunk_id = '${bad.id}'`, 'state');
    const before = dump(db);
    const document = `chunks/j2/${bad.id}`;
    await expect(store.listChunks('j2')).rejects.toMatchObject(dataLoss(document));
    await expect(store.runTransaction(async (tx) => tx.getChunks('j2', [makeChunk('j2', 0).id, bad.id]))).rejects.toMatchObject(dataLoss(document));
    expect(await store.runTransaction(async (tx) => tx.getChunks('j2', [makeChunk('j2', 0).id]))).toStrictEqual([makeChunk('j2', 0)]);
    expect(dump(db)).toStrictEqual(before);
  });

  it('a snapshot that is not JSON is data-loss in the job store and the admin store', async () => {
    db.prepare("UPDATE snapshots SET doc = 'snap' WHERE id = 'snap-2'").run();
    const before = dump(db);
    await expect(store.getSnapshot('snap-2')).rejects.toMatchObject(dataLoss('snapshots/snap-2'));
    await expect(store.listSnapshots({ uid: 'u1' })).rejects.toMatchObject(dataLoss('snapshots/snap-2'));
    await expect(store.runTransaction(async (tx) => tx.getSnapshot('snap-2'))).rejects.toMatchObject(dataLoss('snapshots/snap-2'));
    await expect(admin.listSnapshots({})).rejects.toMatchObject(dataLoss('snapshots/snap-2'));
    // A page that stops before the bad row reads fine.
    expect((await store.listSnapshots({ uid: 'u1', limit: 1 })).items).toStrictEqual([makeSnapshot({ id: 'snap-1' })]);
    expect(dump(db)).toStrictEqual(before);
  });

  it('a snapshot missing a field reaches the repository check through the JobStore, and is data-loss for the admin views', async () => {
    withoutField(db, 'snapshots', "id = 'snap-2'", 'manifestRef');
    const { manifestRef: _, ...stored } = makeSnapshot({ id: 'snap-2', createdAt: 1 });
    // check-repository.ts parses each record itself, reports it and leaves it as it is.
    expect(await store.getSnapshot('snap-2')).toStrictEqual(stored);
    await expect(admin.listSnapshots({})).rejects.toMatchObject(dataLoss('snapshots/snap-2'));
    expect(() => store.recentSnapshots(10)).toThrow(expect.objectContaining(dataLoss('snapshots/snap-2')));
  });
});
