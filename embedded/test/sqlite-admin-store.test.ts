import { describeAdminStoreConformance } from '../../functions/test/conformance/admin-store-conformance';
import { SqliteAdminStore } from '../src/adapters/sqlite-admin-store';
import { openDatabase } from '../src/adapters/sqlite-database';
import { SqliteJobStore } from '../src/adapters/sqlite-job-store';

describeAdminStoreConformance('SqliteAdminStore', async () => {
  const db = openDatabase(':memory:');
  return { admin: new SqliteAdminStore(db), jobs: new SqliteJobStore(db), close: () => void db.close() };
});
