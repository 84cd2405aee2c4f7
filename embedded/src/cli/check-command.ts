/**
 * `lifeboat check [--uid U] [--read-data[=N%]] [--repair]`: the repository check (and repair) of
 * core/snapshots/check-repository.ts, for one user or every user the store holds. Exit 1 while
 * problems remain (a repair deals with what only the index relied on; snapshots that lost data
 * stay marked), 0 when clean; Ctrl-C releases a repair's lease on the way out (exit 130).
 */
import { checkRepository, hasCode, type CheckProblem, type CheckProgress, type CheckReport, type UserCheckReport } from '@lifeboat/engine/core';
import { systemClock } from '@lifeboat/engine/ports';
import { abortOnSignals } from '../interrupt';
import { usageError } from './cli-error';
import { flag, stringOption, type CommandHandler, type CommandInput } from './command';
import type { Progress } from './progress';
import { EXIT } from './spec';

/** Items and index entries named per problem in the text output (the JSON has them all). */
const SHOWN = 5;

/** `--read-data[=N%]`: the share of content blobs to re-read, 0 when absent. */
export function readDataOption(input: CommandInput): number {
  const raw = stringOption(input, 'read-data');
  if (raw === undefined) return 0;
  const match = /^(\d+(?:\.\d+)?)%?$/.exec(raw.trim());
  const value = match ? Number(match[1]) : NaN;
  if (!(value > 0 && value <= 100)) usageError(`--read-data must be a share from 0 to 100 %, such as --read-data=10%, got ${raw}`);
  return value;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function problemLines(p: CheckProblem): string[] {
  const lines = [`  ${p.kind} ${p.ref.length > 40 ? `${p.ref.slice(0, 16)}…` : p.ref}: ${p.message}`];
  if (p.snapshots.length > 0) {
    const shown = p.snapshots.slice(0, SHOWN).join(', ');
    lines.push(`    breaks ${plural(p.snapshots.length, 'snapshot')}: ${shown}${p.snapshots.length > SHOWN ? `, +${p.snapshots.length - SHOWN} more` : ''}${p.itemCount > 0 ? `; ${plural(p.itemCount, 'item')} lost` : ''}`);
  }
  if (p.items.length > 0) {
    lines.push(`    items: ${p.items.slice(0, SHOWN).map((i) => `${i.type}:${i.sourceId}`).join(', ')}${p.itemCount > SHOWN ? ` (+${p.itemCount - SHOWN} more)` : ''}`);
  }
  if (p.indexEntries.length > 0) {
    const shown = p.indexEntries.slice(0, SHOWN).join(', ');
    lines.push(`    the next backup of ${plural(p.indexEntries.length, 'chunk')} would rely on it: ${shown}${p.indexEntries.length > SHOWN ? `, +${p.indexEntries.length - SHOWN} more` : ''}`);
  }
  if (p.repaired) {
    const done = [
      ...(p.repaired.droppedIndexEntries > 0 ? [`dropped ${plural(p.repaired.droppedIndexEntries, 'index entry', 'index entries')}`] : []),
      ...(p.repaired.quarantined ? ['moved to quarantine'] : []),
    ];
    lines.push(`    repair: ${done.length > 0 ? done.join(', ') : 'nothing to do'}${p.remains ? (p.snapshots.length > 0 ? '; the snapshots stay marked' : '; left') : '; fixed'}`);
  }
  return lines;
}

function userText(u: UserCheckReport): string {
  const counts = `${plural(u.snapshots, 'snapshot')}, ${plural(u.indexEntries, 'index entry', 'index entries')}, ${plural(u.manifestObjects, 'manifest object')}, ${plural(u.contentBlobs, 'content blob')} (${u.contentRead} re-read)`;
  const remaining = u.problems.filter((p) => p.remains).length;
  const head = u.problems.length === 0 ? `${u.uid}: OK (${counts})` : `${u.uid}: ${counts}: ${plural(u.problems.length, 'problem')}`;
  const lines = [head, ...u.problems.flatMap(problemLines)];
  if (u.repair) {
    const r = u.repair;
    lines.push(
      `  repair: dropped ${plural(r.droppedIndexEntries, 'index entry', 'index entries')}, quarantined ${plural(r.quarantinedBlobs, 'blob')}, marked ${plural(r.markedSnapshots, 'snapshot')}` +
        `${r.clearedMarks > 0 ? `, cleared ${plural(r.clearedMarks, 'mark')}` : ''}${r.alreadyFixed > 0 ? `, ${r.alreadyFixed} already fixed` : ''}` +
        `${r.stoppedEarly ? ` (stopped early${r.stopReason ? `: ${r.stopReason}` : ''}; run it again)` : ''}`,
    );
  }
  if (u.problems.length > 0) {
    const why = u.repair ? ': the snapshots that lost data stay marked (a backup that still has the data stores it again)' : ' (--repair drops what the index relies on and marks the snapshots)';
    lines.push(remaining === 0 ? '  nothing is left to repair' : `  ${plural(remaining, 'problem')} remain${remaining === 1 ? 's' : ''}${why}`);
  }
  return lines.join('\n');
}

export const checkCommand: CommandHandler = async (input, deps) => {
  const uid = stringOption(input, 'uid');
  if (uid === '') usageError('--uid needs a user id');
  const readDataPercent = readDataOption(input);
  const repair = flag(input, 'repair');
  const { store, blobs, admin } = deps.data;
  let bar: Progress | null = null;
  let shown = '';
  const onProgress = (p: CheckProgress) => {
    const label = `check ${p.uid}: ${p.phase}`;
    if (label !== shown) {
      bar?.finish();
      bar = deps.progress(label, p.total);
      shown = label;
    }
    bar?.update(p.done, p.problems > 0 ? `${plural(p.problems, 'problem')}` : undefined);
  };
  const checkDeps = {
    store,
    blobs,
    keyRing: deps.data.keyRing,
    clock: systemClock,
    // Every user the admin store lists, a page at a time: the data folder's or a deployment's.
    users: async function* () {
      let cursor: string | undefined;
      do {
        const page = await admin.listUsers({ limit: 100, ...(cursor ? { cursor } : {}) });
        yield* page.items;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },
  };
  // Ctrl-C aborts the run, which releases a repair's lease, so the user's backups are not held up.
  const report: CheckReport | null = await abortOnSignals((signal) => checkRepository(checkDeps, uid, { readDataPercent, repair, signal, onProgress })).catch((err: unknown) => {
    if (!hasCode(err, 'cancelled')) throw err;
    return null;
  });
  (bar as Progress | null)?.finish();
  if (!report) {
    process.stderr.write('lifeboat: check interrupted; a repair\'s lease is released, and what it did stays done\n');
    return { exitCode: EXIT.interrupted, data: { interrupted: true }, text: '' };
  }
  const text = report.users.length === 0 ? 'no users to check\n' : `${report.users.map(userText).join('\n')}\n`;
  return { exitCode: report.ok ? EXIT.ok : EXIT.failure, data: report, text };
};
