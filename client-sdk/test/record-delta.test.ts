/**
 * Planning contacts chunks against the last backup's layout (record-delta.ts): recipes for
 * chunks with a few changes, the same recipe again for the same contacts, whole chunks when a
 * recipe would not be much smaller, and the reserved "$ref" field refused.
 */
import { contactChunks } from '../src/chunker';
import { planRecordChunks, type RecordLayout, type RefLine } from '../src/record-delta';

/** The reference lines of a recipe chunk's bytes. */
const refLinesOf = (bytes: Uint8Array): RefLine[] =>
  new TextDecoder().decode(bytes).split('\n').filter((l) => l.startsWith('{"$ref":')).map((l) => JSON.parse(l) as RefLine);

const book = (n: number, edit: (i: number) => string | null = () => null) =>
  Array.from({ length: n }, (_, i) => ({ id: `c${String(i).padStart(5, '0')}`, name: `Contact ${i}`, note: edit(i) ?? 'x'.repeat(120) }));

async function layoutOf(contacts: ReturnType<typeof book>, previous: RecordLayout | null, jobId: string) {
  const plans = planRecordChunks('contacts', await contactChunks(contacts, 1024 * 1024), previous);
  return { plans, layout: { version: 1 as const, jobId, chunks: plans.map((p) => p.layout) } };
}

describe('planContactChunks', () => {
  it('sends whole chunks with no layout, and the same ids again when nothing changed', async () => {
    const first = await layoutOf(book(500), null, 'job-1');
    expect(first.plans.every((p) => p.chunk === p.logical && p.refs.length === 0)).toBe(true);
    const again = await layoutOf(book(500), first.layout, 'job-2');
    expect(again.plans.map((p) => p.chunk.id)).toEqual(first.plans.map((p) => p.chunk.id));
  });

  it('turns a chunk with one edit into a small recipe, built the same way next time', async () => {
    const first = await layoutOf(book(500), null, 'job-1');
    const edited = book(500, (i) => (i === 250 ? 'edited' : null));
    const second = await layoutOf(edited, first.layout, 'job-2');
    const recipes = second.plans.filter((p) => p.refs.length > 0);
    expect(recipes).toHaveLength(1);
    const [recipe] = recipes;
    expect(recipe?.chunk.size).toBeLessThan((recipe?.logical.size ?? 0) / 4);
    expect(recipe?.chunk.items).toBe(recipe?.logical.items);
    const lines = refLinesOf(recipe?.chunk.bytes ?? new Uint8Array());
    expect(lines).toEqual([{ $ref: recipe?.refs[0], except: ['c00250'] }]);
    expect(new TextDecoder().decode(recipe?.chunk.bytes).split('\n').filter(Boolean).slice(1).map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(['c00250']);
    // Unchanged since: the recipe's own id is registered again, so nothing is sent.
    const third = await layoutOf(edited, second.layout, 'job-3');
    expect(third.plans.map((p) => p.chunk.id)).toEqual(second.plans.map((p) => p.chunk.id));
  });

  it('sends a chunk whole when most of it changed', async () => {
    const first = await layoutOf(book(200), null, 'job-1');
    const second = await layoutOf(book(200, (i) => (i % 3 !== 0 ? `edited ${i} `.repeat(12) : null)), first.layout, 'job-2');
    expect(second.plans.every((p) => p.refs.length === 0)).toBe(true);
  });

  it('refuses a contact with the reserved "$ref" field', async () => {
    await expect(contactChunks([{ id: 'c1', $ref: 'x' } as { id: string }], 1024)).rejects.toMatchObject({ code: 'backup/invalid-argument' });
  });
});
