/**
 * The SDK's chunker and record deltas run in time linear in their input (issue 16): each hostile
 * input is made four times larger and the time must grow about fourfold (a ratio within one run).
 */
import { expectLinear } from '../../functions/test/helpers/linear-time';
import { chatChunks, contactChunks } from '../src/chunker';
import { memoryKeyValueStore } from '../src/ledger';
import { LayoutStore, planRecordChunks, type RecordLayout } from '../src/record-delta';

const MIB = 1024 * 1024;

describe('SDK chunker and record deltas scale linearly', () => {
  it('many tiny contacts', async () => {
    await expectLinear('contacts × n', 4_000, (n) => Array.from({ length: n }, (_, i) => ({ id: `c${i}`, name: { display: `N${i}` } })), (list) => contactChunks(list, MIB));
  });

  it('many copies of one chat message (ties broken by their JSON)', async () => {
    await expectLinear('ties × n', 4_000, (n) => Array.from({ length: n }, (_, i) => ({ id: 'm1', conversationId: 'k', sentAt: 1, text: `edit ${i}` })), (list) => chatChunks(list, 64 * MIB));
  });

  it('records nested up to the depth limit', async () => {
    const nested = (depth: number): unknown => (depth === 0 ? 'x' : [nested(depth - 1)]);
    await expectLinear('nested × n', 1_000, (n) => Array.from({ length: n }, (_, i) => ({ id: `c${i}`, x: nested(60) })), (list) => contactChunks(list, MIB));
  });

  it('planning against a layout, and reading the layout back', async () => {
    const build = async (n: number) => {
      const contacts = Array.from({ length: n }, (_, i) => ({ id: `c${String(i).padStart(6, '0')}`, note: 'x'.repeat(40) }));
      const first = planRecordChunks('contacts', await contactChunks(contacts, MIB), null);
      const layout: RecordLayout = { version: 1, jobId: 'job-1', chunks: first.map((p) => p.layout) };
      // Every tenth contact edited: many recipes, each against the chunk before.
      const chunks = await contactChunks(contacts.map((c, i) => (i % 10 === 0 ? { ...c, note: 'edited' } : c)), MIB);
      const storage = memoryKeyValueStore();
      await new LayoutStore(storage, 'd', 'contacts').put(layout);
      return { chunks, layout, storage };
    };
    const inputs = new Map<number, Awaited<ReturnType<typeof build>>>();
    for (const n of [1_000, 4_000, 8_000]) inputs.set(n, await build(n));
    await expectLinear('plan × n', 4_000, (n) => inputs.get(n) ?? inputs.get(1_000)!, async ({ chunks, storage }) => {
      const layout = await new LayoutStore(storage, 'd', 'contacts').get();
      return planRecordChunks('contacts', chunks, layout);
    });
  });
});
