/**
 * A hand-written, recording fake of the slice of the Firestore SDK that FirestoreJobStore calls:
 * document gets and creates, `getAll`, batches, one-collection and collection-group queries
 * (equality, `in`, range and array-contains filters, orderBy, startAfter, limit) and `runTransaction`. It records every query and commit so
 * tests can check what the store asks of Firestore. It is deliberately not a Firestore: no
 * concurrency control, and `update()` only checks that the document exists (field transforms are
 * recorded, not applied). Behaviour that needs the real service runs in
 * firestore-emulator.test.ts.
 */
import { FieldPath, Timestamp, type Firestore } from '@google-cloud/firestore';

type Data = Record<string, unknown>;

export interface RecordedQuery {
  /** A collection path, or a collection id when `group` is set. */
  collection: string;
  /** A collection-group query: every collection named `collection`; `__name__` is the full path. */
  group?: boolean;
  filters: { field: string; op: string; value: unknown }[];
  orders: { field: string; direction: 'asc' | 'desc' }[];
  startAfter?: unknown[];
  limit?: number;
}

export type RecordedWrite =
  | { kind: 'set'; path: string; data: Data }
  | { kind: 'update'; path: string; data: Data }
  | { kind: 'delete'; path: string };

/** An error shaped like the SDK's: the gRPC status in `code`. */
export function grpcError(code: number, message: string): Error & { code: number } {
  return Object.assign(new Error(`${code} ${message}`), { code });
}

function fieldName(field: string | FieldPath): string {
  return typeof field === 'string' ? field : field.isEqual(FieldPath.documentId()) ? '__name__' : field.toString();
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (a instanceof Timestamp && b instanceof Timestamp) return a.toMillis() - b.toMillis() || a.nanoseconds - b.nanoseconds;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

class FakeSnapshot {
  constructor(
    readonly path: string,
    private readonly stored: Data | undefined,
  ) {}

  get exists(): boolean {
    return this.stored !== undefined;
  }

  get id(): string {
    return this.path.slice(this.path.lastIndexOf('/') + 1);
  }

  get ref(): { path: string } {
    return { path: this.path };
  }

  data(): Data | undefined {
    return this.stored;
  }

  get(field: string): unknown {
    return this.stored?.[field];
  }
}

class FakeDocRef {
  constructor(
    private readonly db: FakeFirestore,
    readonly path: string,
  ) {}

  async get(): Promise<FakeSnapshot> {
    this.db.reads.push(this.path);
    return this.db.snapshot(this.path);
  }

  /** `set(data, {merge: true})` merges top-level fields; without merge it replaces. */
  async set(data: Data, options: { merge?: boolean } = {}): Promise<void> {
    if (this.db.failNext) {
      const err = this.db.failNext;
      this.db.failNext = undefined;
      throw err;
    }
    this.db.docs.set(this.path, options.merge ? { ...this.db.docs.get(this.path), ...data } : data);
  }

  async create(data: Data): Promise<void> {
    if (this.db.failNext) {
      const err = this.db.failNext;
      this.db.failNext = undefined;
      throw err;
    }
    if (this.db.docs.has(this.path)) throw grpcError(6, 'ALREADY_EXISTS: Document already exists');
    this.db.docs.set(this.path, data);
  }
}

class FakeQuery {
  constructor(
    private readonly db: FakeFirestore,
    private readonly query: RecordedQuery,
  ) {}

  where(field: string, op: string, value: unknown): FakeQuery {
    return new FakeQuery(this.db, { ...this.query, filters: [...this.query.filters, { field, op, value }] });
  }

  orderBy(field: string | FieldPath, direction: 'asc' | 'desc' = 'asc'): FakeQuery {
    return new FakeQuery(this.db, { ...this.query, orders: [...this.query.orders, { field: fieldName(field), direction }] });
  }

  startAfter(...values: unknown[]): FakeQuery {
    return new FakeQuery(this.db, { ...this.query, startAfter: values });
  }

  limit(limit: number): FakeQuery {
    return new FakeQuery(this.db, { ...this.query, limit });
  }

  /** Field masks change nothing here: every document comes back whole. */
  select(): FakeQuery {
    return this;
  }

  /** count() and sum(field) over the matching documents, as an aggregation query answers them (sum of none is 0). */
  aggregate(spec: Record<string, { aggregateType: string; _field?: string }>): { get(): Promise<{ data(): Record<string, number> }> } {
    return {
      get: async () => {
        this.db.aggregations.push({ ...this.query, aggregate: Object.fromEntries(Object.entries(spec).map(([k, f]) => [k, `${f.aggregateType}(${f._field ?? ''})`])) });
        const { docs } = await this.run();
        const data: Record<string, number> = {};
        for (const [alias, field] of Object.entries(spec)) {
          if (field.aggregateType === 'count') data[alias] = docs.length;
          else if (field.aggregateType === 'sum') data[alias] = docs.reduce((n, d) => n + Number(d.data()?.[field._field ?? ''] ?? 0), 0);
          else throw new Error(`fake aggregate: unsupported ${field.aggregateType}`);
        }
        return { data: () => data };
      },
    };
  }

  async get(): Promise<{ docs: FakeSnapshot[] }> {
    this.db.queries.push(this.query);
    return this.run();
  }

  private async run(): Promise<{ docs: FakeSnapshot[] }> {
    const { collection, group, filters, orders, startAfter, limit } = this.query;
    const value = (snap: FakeSnapshot, field: string): unknown => (field === '__name__' ? (group ? snap.path : snap.id) : snap.data()?.[field]);
    const inScope = (path: string): boolean => {
      if (!group) return path.startsWith(`${collection}/`) && !path.slice(collection.length + 1).includes('/');
      const parts = path.split('/');
      return parts.length % 2 === 0 && parts[parts.length - 2] === collection;
    };
    let docs = [...this.db.docs.entries()]
      .filter(([path]) => inScope(path))
      .map(([path, data]) => new FakeSnapshot(path, data))
      .filter((snap) =>
        filters.every(({ field, op, value: expected }) => {
          const actual = value(snap, field);
          if (op === '==') return actual === expected;
          if (op === '<=') return compare(actual, expected) <= 0;
          if (op === '<') return compare(actual, expected) < 0;
          if (op === '>=') return actual !== undefined && compare(actual, expected) >= 0;
          if (op === 'in') return Array.isArray(expected) && expected.includes(actual);
          if (op === 'array-contains') return Array.isArray(actual) && actual.includes(expected);
          throw new Error(`fake query: unsupported operator ${op}`);
        }),
      );
    // Firestore leaves out documents without an ordered field, and orders by document id after
    // the last orderBy, in its direction.
    docs = docs.filter((snap) => orders.every(({ field }) => value(snap, field) !== undefined));
    const last = orders[orders.length - 1];
    const allOrders = [...orders, { field: '__name__', direction: last?.direction ?? 'asc' }];
    const order = (a: FakeSnapshot, b: FakeSnapshot): number => {
      for (const { field, direction } of allOrders) {
        const c = compare(value(a, field), value(b, field));
        if (c !== 0) return direction === 'asc' ? c : -c;
      }
      return 0;
    };
    docs.sort(order);
    if (startAfter) {
      docs = docs.filter((snap) => {
        for (const [i, { field, direction }] of orders.entries()) {
          if (i >= startAfter.length) return false;
          const c = compare(value(snap, field), startAfter[i]);
          if (c !== 0) return direction === 'asc' ? c > 0 : c < 0;
        }
        return false;
      });
    }
    return { docs: limit === undefined ? docs : docs.slice(0, limit) };
  }
}

class FakeTransaction {
  readonly writes: RecordedWrite[] = [];

  constructor(private readonly db: FakeFirestore) {}

  async get(ref: FakeDocRef): Promise<FakeSnapshot> {
    this.db.reads.push(ref.path);
    return this.db.snapshot(ref.path);
  }

  async getAll(...refs: FakeDocRef[]): Promise<FakeSnapshot[]> {
    return refs.map((ref) => this.db.snapshot(ref.path));
  }

  set(ref: FakeDocRef, data: Data): void {
    this.writes.push({ kind: 'set', path: ref.path, data });
  }

  update(ref: FakeDocRef, data: Data): void {
    this.writes.push({ kind: 'update', path: ref.path, data });
  }

  delete(ref: FakeDocRef): void {
    this.writes.push({ kind: 'delete', path: ref.path });
  }
}

export class FakeFirestore {
  readonly docs = new Map<string, Data>();
  readonly queries: RecordedQuery[] = [];
  readonly aggregations: Array<RecordedQuery & { aggregate: Record<string, string> }> = [];
  readonly reads: string[] = [];
  readonly commits: RecordedWrite[][] = [];
  readonly transactionOptions: unknown[] = [];
  /** Fails the next create or transaction commit with this error. */
  failNext: Error | undefined;

  /** Typed as the SDK's Firestore for the code under test. */
  asFirestore(): Firestore {
    return this as unknown as Firestore;
  }

  collection(path: string): FakeQuery {
    return new FakeQuery(this, { collection: path, filters: [], orders: [] });
  }

  collectionGroup(id: string): FakeQuery {
    return new FakeQuery(this, { collection: id, group: true, filters: [], orders: [] });
  }

  doc(path: string): FakeDocRef {
    return new FakeDocRef(this, path);
  }

  async getAll(...refs: FakeDocRef[]): Promise<FakeSnapshot[]> {
    return refs.map((ref) => this.snapshot(ref.path));
  }

  batch(): { delete(ref: FakeDocRef | { path: string }): void; commit(): Promise<void> } {
    const writes: RecordedWrite[] = [];
    return {
      delete: (ref) => writes.push({ kind: 'delete', path: ref.path }),
      commit: async () => {
        this.commits.push(writes);
        for (const write of writes) this.docs.delete(write.path);
      },
    };
  }

  async runTransaction<T>(fn: (tx: FakeTransaction) => Promise<T>, options?: unknown): Promise<T> {
    this.transactionOptions.push(options);
    const tx = new FakeTransaction(this);
    const result = await fn(tx);
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    for (const write of tx.writes) {
      if (write.kind === 'update' && !this.docs.has(write.path)) throw grpcError(5, `NOT_FOUND: no document to update: ${write.path}`);
    }
    this.commits.push(tx.writes);
    for (const write of tx.writes) {
      if (write.kind === 'set') this.docs.set(write.path, write.data);
      else if (write.kind === 'delete') this.docs.delete(write.path);
    }
    return result;
  }

  snapshot(path: string): FakeSnapshot {
    return new FakeSnapshot(path, this.docs.get(path));
  }
}
