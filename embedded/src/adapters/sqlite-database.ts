/**
 * The embedded runtime's one SQLite file, shared by the job store, the task queue and whatever
 * else needs tables: each component names its own migrations, so none depends on another's.
 */
import BetterSqlite3 from 'better-sqlite3';
import { lifeboatError } from '@lifeboat/engine/core';

export type Database = BetterSqlite3.Database;

/**
 * Opens (creating if needed) a database file, set up for several connections and processes:
 * WAL so readers never block the writer, `synchronous = NORMAL` (durable at each checkpoint, safe
 * against corruption), a 5 s busy timeout so concurrent writers wait instead of failing.
 */
export function openDatabase(path: string): Database {
  let db: Database;
  try {
    db = new BetterSqlite3(path, { timeout: 5000 });
  } catch (err) {
    throw lifeboatError('failed-precondition', `cannot open database ${path}`, { cause: err });
  }
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * Applies a named migration once per database: its statements run in one immediate transaction
 * together with its row in `schema_migrations`, so two processes starting at once apply it once.
 * Names are global to the file; prefix them with the component (`job-store/1`, `task-queue/1`).
 *
 * @returns true when this call applied it, false when it was already applied.
 */
export function migrate(db: Database, name: string, statements: readonly string[]): boolean {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const apply = db.transaction((): boolean => {
    if (db.prepare('SELECT 1 FROM schema_migrations WHERE name = ?').get(name) !== undefined) return false;
    for (const statement of statements) db.exec(statement);
    db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(name, Date.now());
    return true;
  });
  return apply.immediate();
}
