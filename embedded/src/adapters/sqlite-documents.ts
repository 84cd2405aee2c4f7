/**
 * SQLite row -> model document. A row's `doc` column is the model object as JSON; reading it back
 * checks it against the model's schema, as the Firestore adapters do (`fromDocument`), because
 * the database file is a boundary too: anyone with the file (a restore of an old copy, a manual
 * edit, a disk fault SQLite did not notice) can change it.
 */
import { lifeboatError } from '@lifeboat/engine/core';
import { z } from 'zod';

/**
 * The model object a row's `doc` holds, parsed once.
 *
 * @param table the row's table and `key` its primary key, named in the error.
 * @throws LifeboatError `data-loss` (permanent) when `doc` is not JSON or does not match the
 *   schema: retrying cannot repair a row, and core must not act on a document it cannot trust.
 */
export function fromRow<S extends z.ZodType>(schema: S, doc: string, table: string, key: readonly (string | number)[]): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(doc);
  } catch (err) {
    throw corrupt(table, key, `is not JSON (${(err as Error).message})`, err);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw corrupt(table, key, `does not match its schema: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function corrupt(table: string, key: readonly (string | number)[], problem: string, cause?: unknown): Error {
  const document = `${table}/${key.join('/')}`;
  return lifeboatError('data-loss', `stored row ${document} ${problem}`, { retryable: false, details: { document, table, key: key.map(String) }, cause });
}
