/**
 * firestore.indexes.json must hold a composite index for every composite query the code runs:
 * the store's FIRESTORE_QUERIES, the chat source's CHAT_SOURCE_QUERIES and the functions' own
 * WIRING_QUERIES, together DEPLOYED_QUERIES. A missing index makes the
 * query fail in production (FAILED_PRECONDITION) while every emulator accepts it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FirestoreQueryIndex } from '../../src/adapters/firestore-queries';
import { DEPLOYED_QUERIES } from '../../src/firebase/firestore-queries';

const file = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'firestore.indexes.json'), 'utf8')) as { indexes: FirestoreQueryIndex[] };

const same = (a: FirestoreQueryIndex, b: FirestoreQueryIndex) =>
  a.collectionGroup === b.collectionGroup &&
  a.queryScope === b.queryScope &&
  JSON.stringify(a.fields.map((f) => [f.fieldPath, f.order ?? null, f.arrayConfig ?? null])) ===
    JSON.stringify(b.fields.map((f) => [f.fieldPath, f.order ?? null, f.arrayConfig ?? null]));

describe('firestore.indexes.json', () => {
  it.each(DEPLOYED_QUERIES.map((q) => [q.usedBy, q] as const))('has the index of %s', (_usedBy, query) => {
    expect(file.indexes.filter((index) => same(index, query))).toHaveLength(1);
  });

  it('holds no index that no query uses (each costs writes on every document)', () => {
    const unused = file.indexes.filter((index) => !DEPLOYED_QUERIES.some((q) => same(index, q)));
    expect(unused).toEqual([]);
  });
});
