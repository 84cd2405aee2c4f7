/**
 * Model <-> Firestore document conversion. The model is plain JSON with epoch-millisecond times,
 * so a document is the model object itself; reading one back converts any `Timestamp` (an admin
 * tool or the console may write one) to milliseconds and checks the result against the model's
 * schema, because a document in Firestore is a boundary: anyone with console access can edit it.
 */
import { Timestamp, type DocumentData } from '@google-cloud/firestore';
import { z } from 'zod';
import { lifeboatError } from '../core/errors';

/**
 * The document to write for a model object: a deep copy (the caller may change its object after
 * the call), with `undefined` fields dropped, which Firestore would otherwise refuse.
 *
 * @throws LifeboatError `invalid-argument` for a value JSON cannot hold (NaN, Infinity, a
 *   function): Firestore would store it differently from every other store.
 */
export function toDocument(value: object): DocumentData {
  const check = (item: unknown, path: string): void => {
    if (typeof item === 'number' && !Number.isFinite(item)) {
      throw lifeboatError('invalid-argument', `${path} is not a finite number`);
    }
    if (typeof item === 'function' || typeof item === 'symbol' || typeof item === 'bigint') {
      throw lifeboatError('invalid-argument', `${path} cannot be stored in a document`);
    }
    if (Array.isArray(item)) item.forEach((element, i) => check(element, `${path}[${i}]`));
    else if (typeof item === 'object' && item !== null) {
      for (const [name, field] of Object.entries(item)) check(field, `${path}.${name}`);
    }
  };
  check(value, 'document');
  return JSON.parse(JSON.stringify(value)) as DocumentData;
}

/**
 * Replaces every `Timestamp` (anything with a `toMillis()`, so Timestamps of another SDK copy
 * count too) with its epoch milliseconds, and every `Date` with its time, deeply. Other values are
 * copied as they are.
 */
export function timestampsToMillis(value: unknown): unknown {
  if (value instanceof Timestamp) return value.toMillis();
  if (value instanceof Date) return value.getTime();
  if (Array.isArray(value)) return value.map(timestampsToMillis);
  if (typeof value === 'object' && value !== null) {
    const toMillis = (value as { toMillis?: unknown }).toMillis;
    if (typeof toMillis === 'function') return (toMillis as () => number).call(value);
    const out: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(value)) out[name] = timestampsToMillis(field);
    return out;
  }
  return value;
}

/**
 * The model object a stored document holds: Timestamps become milliseconds, then the schema
 * checks it.
 *
 * @throws LifeboatError `data-loss` (permanent) when the document does not match the schema:
 *   retrying cannot repair a document, and core must not act on one it cannot trust.
 */
export function fromDocument<S extends z.ZodType>(schema: S, data: DocumentData | undefined, what: string): z.output<S> {
  const parsed = schema.safeParse(timestampsToMillis(data ?? {}));
  if (!parsed.success) {
    throw lifeboatError('data-loss', `stored ${what} does not match its schema: ${z.prettifyError(parsed.error)}`, {
      details: { document: what },
    });
  }
  return parsed.data;
}
