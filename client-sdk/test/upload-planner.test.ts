/**
 * The upload planner (upload-planner.ts) on plain data: what it registers and in which batches,
 * what it makes of the server's answers (missing, known, unresolved), what it uploads and what the
 * commit counts; and the upload window's admission rule.
 */
import { contactChunks, type Chunk } from '../src/chunker';
import { nobleHasher } from '../src/hasher';
import type { UploadChunk } from '../src/media-file';
import type { RecordLayout } from '../src/record-delta';
import { deltaTypesOf, fileUploadTotals, UploadPlanner, windowAdmits, windowCost } from '../src/upload-planner';

const chunk = (id: string, size = 10, extra: Partial<Chunk> = {}): Chunk => ({ id, type: 'deviceInfo', size, items: 1, bytes: new Uint8Array(size), ...extra });

const planner = (chunks: UploadChunk[], batchSize = 2, bases: ConstructorParameters<typeof UploadPlanner>[0]['bases'] = {}) =>
  new UploadPlanner({ chunks, bases, hasher: nobleHasher, batchSize });

/** Every registration the planner asks for, answered by `answer`. */
function registerAll(p: UploadPlanner, answer: (ids: string[]) => { missing: string[]; known: string[]; unresolved?: string[] }) {
  const calls: string[][] = [];
  const outcomes = [];
  for (let batch = p.nextRegistration(); batch; batch = p.nextRegistration()) {
    const ids = p.registrations(batch).map((r) => r.id);
    calls.push(ids);
    outcomes.push(p.applyRegistration(batch, answer(ids)));
  }
  return { calls, outcomes };
}

const contacts = (n: number, edited = -1) => Array.from({ length: n }, (_, i) => ({ id: `c${i}`, name: `Contact ${i}`, note: i === edited ? 'changed' : 'x'.repeat(100) }));

async function layoutAfter(list: ReturnType<typeof contacts>, jobId: string): Promise<RecordLayout> {
  const p = planner(await contactChunks(list, 1024 * 1024), 250, { contacts: null });
  registerAll(p, (ids) => ({ missing: ids, known: [] }));
  return { version: 1, jobId, chunks: p.layoutOf('contacts') };
}

describe('UploadPlanner', () => {
  it('registers in batches of batchSize, in the order built, and is done after the last', () => {
    const p = planner([chunk('a'), chunk('b'), chunk('c'), chunk('d'), chunk('e')], 2);
    const { calls } = registerAll(p, (ids) => ({ missing: [], known: ids }));
    expect(calls).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(p.nextRegistration()).toBeNull();
  });

  it('counts what the server has as done and deduplicated, and uploads what it lacks, each id once, in order', () => {
    const p = planner([chunk('a', 5), chunk('b', 7), chunk('c', 11), chunk('b', 7)], 2);
    const { outcomes } = registerAll(p, (ids) => ({ missing: ids.filter((id) => id !== 'a'), known: ids.filter((id) => id === 'a') }));
    expect(outcomes).toEqual([{ chunksDone: 1, bytesDeduplicated: 5 }, { chunksDone: 0, bytesDeduplicated: 0 }]);
    expect(p.takeUploads().map((c) => c.id)).toEqual(['b', 'c']);
    // Handed out once.
    expect(p.takeUploads()).toEqual([]);
    expect(p.commitChunkCount).toBe(3);
    expect(p.bytesTotal).toBe(30);
  });

  it('plans contacts against the last layout: a recipe with its refs, sent whole when the server cannot resolve it', async () => {
    const base = await layoutAfter(contacts(300), 'job-1');
    const logical = await contactChunks(contacts(300, 3), 1024 * 1024);
    const p = planner(logical, 250, { contacts: base });
    // Only the chunk holding the edited contact changed; it goes as a recipe on the chunk it was.
    const changed = logical.findIndex((c) => !base.chunks.some((b) => b.logical === c.id));
    const recipe = p.wireChunks[changed] as Chunk;
    const whole = logical[changed] as Chunk;
    expect(p.wireChunks.filter((c, i) => c !== logical[i])).toEqual([recipe]);
    expect(recipe.size).toBeLessThan(whole.size / 2);

    const first = p.nextRegistration();
    if (!first) throw new Error('no registration');
    const entries = p.registrations(first);
    expect(entries.map((e) => e.id)).toEqual(p.wireChunks.map((c) => c.id));
    expect(entries.filter((e) => e.refs)).toEqual([{ id: recipe.id, type: 'contacts', size: recipe.size, items: whole.items, refs: [base.chunks[changed]?.wire] }]);
    // The server has the unchanged chunks, and lost what the recipe refers to.
    const known = entries.map((e) => e.id).filter((id) => id !== recipe.id);
    expect(p.applyRegistration(first, { missing: [], known, unresolved: [recipe.id] })).toEqual({
      chunksDone: known.length,
      bytesDeduplicated: logical.reduce((n, c) => n + c.size, 0) - whole.size,
    });
    // So its records go whole, in the next registration, without refs.
    const fallback = p.nextRegistration();
    if (!fallback) throw new Error('no fallback registration');
    expect(p.registrations(fallback)).toEqual([{ id: whole.id, type: 'contacts', size: whole.size, items: whole.items }]);
    p.applyRegistration(fallback, { missing: [whole.id], known: [] });
    expect(p.nextRegistration()).toBeNull();
    expect(p.wireChunks).toEqual(logical);
    expect(p.takeUploads()).toEqual([whole]);
    // The next run plans against the whole chunk, not the recipe the server could not resolve.
    expect(p.layoutOf('contacts')[changed]).toEqual({ logical: whole.id, wire: whole.id, records: whole.records });
  });

  it('sends every chunk whole for a type without a base, and plans no type end to end', async () => {
    const logical = await contactChunks(contacts(40, 3), 1024 * 1024);
    expect(planner(logical, 250, {}).wireChunks).toEqual(logical);
    expect(planner(logical, 250, { contacts: null }).wireChunks).toEqual(logical);
    expect(deltaTypesOf(['media', 'chats', 'contacts'], false)).toEqual(['contacts', 'chats']);
    expect(deltaTypesOf(['media', 'chats', 'contacts'], true)).toEqual([]);
  });

  it('sums the bytes each media file sends', () => {
    const file = (sourceId: string) => ({ sourceId, name: `${sourceId}.jpg`, size: 100 });
    expect([...fileUploadTotals([chunk('a', 3, { file: file('m1') }), chunk('b', 4), chunk('c', 5, { file: file('m1') }), chunk('d', 6, { file: file('m2') })])]).toEqual([['m1', 8], ['m2', 6]]);
  });
});

describe('the upload window', () => {
  const window = { parallel: 2, pieceSize: 100 };
  it('admits a chunk while the count and the piece of bytes in flight allow, and any chunk alone', () => {
    expect(windowCost(chunk('big', 500), window)).toBe(100);
    expect(windowAdmits(window, 0, 0, 100)).toBe(true);
    expect(windowAdmits(window, 1, 60, 40)).toBe(true);
    expect(windowAdmits(window, 1, 60, 41)).toBe(false);
    expect(windowAdmits(window, 2, 10, 10)).toBe(false);
  });
});
