/**
 * firestore.indexes.json must hold a composite index for every composite query the code runs on
 * Lifeboat's database: the store's FIRESTORE_QUERIES and the functions' own WIRING_QUERIES,
 * together DEPLOYED_QUERIES (the chat source's index is on the app's database, created apart). A missing index makes the
 * query fail in production (FAILED_PRECONDITION) while every emulator accepts it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FirestoreQueryIndex } from '../../src/adapters/firestore-queries';
import { APP_DATABASE_QUERIES, DEPLOYED_QUERIES } from '../../src/firebase/config/wiring-queries';
import { FIRESTORE_INDEX_EXEMPTIONS } from '../../src/adapters/firestore-queries';

const file = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'firestore.indexes.json'), 'utf8')) as {
  indexes: FirestoreQueryIndex[];
  fieldOverrides: Array<{ collectionGroup: string; fieldPath: string; indexes: unknown[] }>;
};

const same = (a: FirestoreQueryIndex, b: FirestoreQueryIndex) =>
  a.collectionGroup === b.collectionGroup &&
  a.queryScope === b.queryScope &&
  JSON.stringify(a.fields.map((f) => [f.fieldPath, f.order ?? null, f.arrayConfig ?? null])) ===
    JSON.stringify(b.fields.map((f) => [f.fieldPath, f.order ?? null, f.arrayConfig ?? null]));

describe('firestore.indexes.json', () => {
  it.each(DEPLOYED_QUERIES.map((q) => [q.usedBy, q] as const))('has the index of %s', (_usedBy, query) => {
    expect(file.indexes.filter((index) => same(index, query))).toHaveLength(1);
  });

  it('holds none of the app database\'s indexes: firebase.json deploys this file to Lifeboat\'s database only', () => {
    for (const query of APP_DATABASE_QUERIES) expect([query.usedBy, file.indexes.some((index) => same(index, query))]).toEqual([query.usedBy, false]);
  });

  it('holds no index that no query uses (each costs writes on every document)', () => {
    const unused = file.indexes.filter((index) => !DEPLOYED_QUERIES.some((q) => same(index, q)));
    expect(unused).toEqual([]);
  });

  it('exempts from indexing exactly the fields no query uses', () => {
    expect(file.fieldOverrides).toEqual(FIRESTORE_INDEX_EXEMPTIONS.map((e) => ({ ...e, indexes: [] })));
    // Fields queried with the automatic single-field indexes, per collection (see firestore-queries.ts).
    const singleField: Record<string, string[]> = { backupJobs: ['uid', 'status', 'createdAt', 'updatedAt'], snapshots: ['uid', 'createdAt', 'id'], chunks: ['index', 'state'], chunkBatches: ['firstIndex'], chunkIndex: ['key'], schedules: ['uid', 'enabled', 'nextRunAt'] };
    // Fields exempt although a composite index names them: a composite index is its own, and
    // needs no single-field index of its fields (a job's id, device and types are only ever
    // filtered or ordered by together with others).
    const compositeOnly: Record<string, string[]> = { backupJobs: ['id', 'deviceId', 'types'] };
    for (const { collectionGroup, fieldPath } of FIRESTORE_INDEX_EXEMPTIONS) {
      const inComposite = DEPLOYED_QUERIES.some((q) => q.collectionGroup === collectionGroup && q.fields.some((f) => f.fieldPath === fieldPath || f.fieldPath.startsWith(`${fieldPath}.`)));
      const allowed = (compositeOnly[collectionGroup] ?? []).includes(fieldPath);
      expect([collectionGroup, fieldPath, (inComposite && !allowed) || (singleField[collectionGroup] ?? []).includes(fieldPath)]).toEqual([collectionGroup, fieldPath, false]);
    }
  });
});
