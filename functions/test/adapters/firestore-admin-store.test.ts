/**
 * The Firestore AdminStore over the fake (its logic: which index each filter combination uses,
 * filters applied to what was read, the users skip scan), and the AdminStore conformance suite.
 */
import { FirestoreAdminStore, jobQueryPlan, SCAN_LIMIT } from '../../src/adapters/firestore-admin-store';
import { FirestoreJobStore } from '../../src/adapters/firestore-job-store';
import { ADMIN_QUERIES, FIRESTORE_QUERIES } from '../../src/adapters/firestore-queries';
import { describeAdminStoreConformance } from '../conformance/admin-store-conformance';
import { makeJob } from '../conformance/fixtures';
import { FakeFirestore } from './fake-firestore';

describeAdminStoreConformance('FirestoreAdminStore over the fake', async () => {
  const fake = new FakeFirestore();
  return { admin: new FirestoreAdminStore(fake.asFirestore(), { root: 'lb/test' }), jobs: new FirestoreJobStore(fake.asFirestore(), { root: 'lb/test' }) };
});

describe('FirestoreAdminStore queries', () => {
  it('serve each job filter combination from an index that exists', async () => {
    const fake = new FakeFirestore();
    const admin = new FirestoreAdminStore(fake.asFirestore());
    const combos = [{}, { uid: 'u' }, { uid: 'u', status: 'failed' as const }, { uid: 'u', deviceId: 'd' }, { status: 'failed' as const }, { type: 'media' as const }, { deviceId: 'd' }, { uid: 'u', status: 'failed' as const, deviceId: 'd', type: 'media' as const, from: 1, to: 2 }];
    const indexes = [...FIRESTORE_QUERIES, ...ADMIN_QUERIES].filter((q) => q.collectionGroup === 'backupJobs');
    for (const query of combos) {
      await admin.listJobs(query);
      const asked = fake.queries[fake.queries.length - 1];
      const equalities = (asked?.filters ?? []).filter((f) => f.op === '==' || f.op === 'array-contains').map((f) => f.field);
      expect(equalities).toEqual(jobQueryPlan(query).map((f) => (f === 'type' ? 'types' : f)));
      const fields = [...equalities, 'createdAt', 'id'];
      expect(indexes.some((index) => JSON.stringify(index.fields.map((f) => f.fieldPath)) === JSON.stringify(fields))).toBe(true);
      expect(asked?.orders).toEqual([{ field: 'createdAt', direction: 'desc' }, { field: 'id', direction: 'desc' }]);
    }
  });

  it('reads at most SCAN_LIMIT documents for a page whose filters it applies itself, and goes on from there', async () => {
    const fake = new FakeFirestore();
    const jobs = new FirestoreJobStore(fake.asFirestore());
    const admin = new FirestoreAdminStore(fake.asFirestore());
    // The one media job is the oldest: the first page reads SCAN_LIMIT jobs and finds none.
    for (let i = 0; i <= SCAN_LIMIT + 10; i++) await jobs.createJob(makeJob({ id: `job-${String(i).padStart(4, '0')}`, createdAt: 1000 + i, types: i === 0 ? ['media'] : ['contacts'] }));
    const first = await admin.listJobs({ status: 'queued', type: 'media', limit: 10 });
    expect(first.items).toEqual([]);
    expect(first.nextCursor).toBeDefined();
    expect(fake.queries[fake.queries.length - 1]?.limit).toBe(SCAN_LIMIT + 1);
    const second = await admin.listJobs({ status: 'queued', type: 'media', limit: 10, ...(first.nextCursor ? { cursor: first.nextCursor } : {}) });
    expect(second.items.map((j) => j.id)).toEqual(['job-0000']);
    expect(second.nextCursor).toBeUndefined();
  });

  it('finds users with one single-document query each', async () => {
    const fake = new FakeFirestore();
    const jobs = new FirestoreJobStore(fake.asFirestore());
    for (let i = 0; i < 40; i++) await jobs.createJob(makeJob({ id: `job-${i}`, uid: `u${i % 4}` }));
    const before = fake.queries.length;
    expect((await new FirestoreAdminStore(fake.asFirestore()).listUsers({ limit: 10 })).items).toEqual(['u0', 'u1', 'u2', 'u3']);
    const asked = fake.queries.slice(before);
    expect(asked).toHaveLength(5);
    expect(asked.every((q) => q.limit === 1 && q.orders[0]?.field === 'uid')).toBe(true);
  });
});
