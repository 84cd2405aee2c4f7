/** `lifeboat verify SNAPSHOT`: re-reads a snapshot's blobs and names every problem by item (exit 1 on any). */
import { verifySnapshot } from '@lifeboat/engine/core';
import { systemClock } from '@lifeboat/engine/ports';
import { intOption, type CommandHandler } from './command';
import { snapshotArg } from './snapshot-arg';
import { EXIT } from './spec';

/** Items named per problem in the text output (all of them are in the JSON). */
const SHOWN_ITEMS = 10;

export const verifyCommand: CommandHandler = async (input, deps) => {
  const snapshot = await snapshotArg(input, deps);
  const sample = intOption(input, 'sample', 1, 100, 100);
  // The bar starts with the first blob, when the number of blobs is known.
  let bar = null as ReturnType<typeof deps.progress> | null;
  const report = await verifySnapshot({ store: deps.data.store, blobs: deps.data.blobs, keyRing: deps.data.keyRing, clock: systemClock }, snapshot, {
    samplePercent: sample,
    onProgress: ({ checkedBlobs, totalBlobs }) => {
      bar ??= deps.progress(`verify ${snapshot.id}`, totalBlobs);
      bar.update(checkedBlobs, 'blobs');
    },
  });
  bar?.finish();
  const lines = [`${snapshot.id}: checked ${report.checkedBlobs} of ${report.totalBlobs} blobs (${report.checkedItems} items): ${report.ok ? 'OK' : `${report.problems.length} problem(s)`}`];
  for (const p of report.problems) {
    const items = p.items.slice(0, SHOWN_ITEMS).map((i) => `${i.type}:${i.sourceId}`).join(', ');
    lines.push(`  ${p.kind} ${p.blob.slice(0, 16)}…: ${p.message}${items ? `\n    items: ${items}${p.items.length > SHOWN_ITEMS ? ` (+${p.items.length - SHOWN_ITEMS} more)` : ''}` : ''}`);
  }
  return { exitCode: report.ok ? EXIT.ok : EXIT.failure, data: report, text: `${lines.join('\n')}\n` };
};
