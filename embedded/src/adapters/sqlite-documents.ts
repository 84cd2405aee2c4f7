/**
 * SQLite row -> model document. A row's `doc` column is the model object as JSON; reading it back
 * checks it against the model's schema, as the Firestore adapters do (`fromDocument`), because
 * the database file is a boundary too: anyone with the file (a restore of an old copy, a manual
 * edit, a disk fault SQLite did not notice) can change it.
 */
import { lifeboatError } from '@lifeboat/engine/core';
import { z } from 'zod';

/** What {@link fromRow} does with a row that is a JSON object but does not match its schema. */
export type OnMismatch = 'data-loss' | 'hand-over';

/**
 * The model object a row's `doc` holds, parsed once.
 *
 * @param table the row's table and `key` its primary key, named in the error.
 * @param onMismatch `hand-over` gives a JSON object that does not match the schema to the caller
 *   as it is stored, for the records the repository check reports and repairs itself (it parses
 *   each one: `core/snapshots/check-repository.ts`); a row that is not a JSON object is
 *   `data-loss` either way. @default 'data-loss'
 * @throws LifeboatError `data-loss` (permanent) when `doc` is not JSON or does not match the
 *   schema: retrying cannot repair a row, and core must not act on a document it cannot trust.
 */
export function fromRow<S extends z.ZodType>(schema: S, doc: string, table: string, key: readonly (string | number)[], onMismatch: OnMismatch = 'data-loss'): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(doc);
  } catch (err) {
    throw corrupt(table, key, `is not JSON (${(err as Error).message})`, err);
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  if (onMismatch === 'hand-over' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    // Deliberately unchecked: the one caller that may see it (the repository check) parses it and reports it.
    return value as z.output<S>;
  }
  throw corrupt(table, key, `does not match its schema: ${z.prettifyError(parsed.error)}`);
}

function corrupt(table: string, key: readonly (string | number)[], problem: string, cause?: unknown): Error {
  const document = `${table}/${key.join('/')}`;
  return lifeboatError('data-loss', `stored row ${document} ${problem}`, { retryable: false, details: { document, table, key: key.map(String) }, cause });
}
