import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeJobStoreConformance } from '../../functions/test/conformance/job-store-conformance';
import { makeJob } from '../../functions/test/conformance/fixtures';
import { migrate, openDatabase, SqliteJobStore, type Database } from '../src/adapters';

function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-sqlite-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

describeJobStoreConformance('SqliteJobStore (file)', async () => {
  const { dir, remove } = tempDir();
  const db = openDatabase(join(dir, 'lifeboat.db'));
  return {
    store: new SqliteJobStore(db),
    close: () => {
      db.close();
      remove();
    },
  };
});

describeJobStoreConformance('SqliteJobStore (:memory:)', async () => {
  const db = openDatabase(':memory:');
  return { store: new SqliteJobStore(db), close: () => void db.close() };
});

describe('SqliteJobStore over one file', () => {
  let dir: string;
  let remove: () => void;
  const opened: Database[] = [];
  const open = (): Database => {
    const db = openDatabase(join(dir, 'lifeboat.db'));
    opened.push(db);
    return db;
  };

  beforeEach(() => {
    ({ dir, remove } = tempDir());
  });

  afterEach(() => {
    for (const db of opened.splice(0)) if (db.open) db.close();
    remove();
  });

  it('sets the pragmas the embedded runtime relies on', () => {
    const db = open();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('applies each named migration once, side by side with other components', () => {
    const db = open();
    expect(migrate(db, 'other/1', ['CREATE TABLE other_things (id TEXT PRIMARY KEY)'])).toBe(true);
    expect(migrate(db, 'other/1', ['CREATE TABLE other_things (id TEXT PRIMARY KEY)'])).toBe(false);
    new SqliteJobStore(db);
    new SqliteJobStore(open());
    const names = db.prepare('SELECT name FROM schema_migrations ORDER BY name').pluck().all();
    expect(names).toEqual(['job-store/1', 'job-store/2-recent', 'job-store/3-chunk-batches', 'other/1']);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%_recent' ORDER BY name").pluck().all()).toEqual(['jobs_recent', 'snapshots_recent']);
  });

  it('keeps the exact total when two connections increment one job concurrently', async () => {
    const a = new SqliteJobStore(open());
    const b = new SqliteJobStore(open());
    await a.createJob(makeJob({ id: 'j1' }));
    const bump = (store: SqliteJobStore) =>
      store.runTransaction(async (tx) => {
        tx.incrementJob('j1', { counters: { processedChunks: 1 } });
      });
    const readModifyWrite = (store: SqliteJobStore) =>
      store.runTransaction(async (tx) => {
        const job = await tx.getJob('j1');
        if (!job) throw new Error('missing job');
        tx.setJob({ ...job, attempts: job.attempts + 1 });
      });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => [bump(i % 2 ? a : b), readModifyWrite(i % 2 ? b : a)]).flat(),
    );
    const job = await b.getJob('j1');
    expect(job?.progress.processedChunks).toBe(20);
    expect(job?.attempts).toBe(20);
  });

  it('gives up with aborted after 25 conflicting attempts', async () => {
    const a = new SqliteJobStore(open());
    const b = new SqliteJobStore(open());
    await a.createJob(makeJob({ id: 'j1' }));
    let attempts = 0;
    await expect(
      a.runTransaction(async (tx) => {
        attempts += 1;
        const job = await tx.getJob('j1');
        // Another writer changes the job between this read and the commit, every time.
        await b.runTransaction(async (other) => other.incrementJob('j1', { counters: { uploadedChunks: 1 } }));
        if (job) tx.setJob({ ...job, attempts: 99 });
      }),
    ).rejects.toMatchObject({ code: 'aborted' });
    expect(attempts).toBe(25);
    expect(await a.getJob('j1')).toMatchObject({ attempts: 0, progress: { uploadedChunks: 25 } });
  });

  it('keeps its documents after the database is reopened', async () => {
    const db = open();
    const job = makeJob({ id: 'j1', status: 'running' });
    await new SqliteJobStore(db).createJob(job);
    db.close();
    const reopened = new SqliteJobStore(open());
    expect(await reopened.getJob('j1')).toStrictEqual(job);
    expect(await reopened.createJob(job)).toEqual({ created: false });
  });
});
