/**
 * `lifeboat restore SNAPSHOT --to DIR`: the folder restore, which keeps going past damage; exit 3
 * when any item failed (listed in restore-report.json and here).
 */
import { BACKUP_TYPES, type BackupType } from '@lifeboat/engine/core';
import { restoreToFolder } from '../restore/folder-restore';
import { requiredOption, stringOption, type CommandHandler } from './command';
import { usageError } from './cli-error';
import { formatBytes } from './progress';
import { snapshotArg } from './snapshot-arg';
import { EXIT } from './spec';

/** Failed items named in the text output (restore-report.json has them all). */
const SHOWN_FAILURES = 20;

const list = (value: string | undefined) => value?.split(',').map((t) => t.trim()).filter(Boolean);

export const restoreCommand: CommandHandler = async (input, deps) => {
  const to = requiredOption(input, 'to', 'restore');
  const types = list(stringOption(input, 'types'));
  const unknown = types?.filter((t) => !(BACKUP_TYPES as readonly string[]).includes(t)) ?? [];
  if (unknown.length > 0) usageError(`unknown type(s): ${unknown.join(', ')} (types: ${BACKUP_TYPES.join(', ')})`);
  const items = list(stringOption(input, 'items'));
  const snapshot = await snapshotArg(input, deps);
  // Without a selection every manifest item comes by: the snapshot's total is the bar's end.
  const bar = deps.progress(`restore ${snapshot.id}`, types || items ? undefined : snapshot.totals.items);
  const summary = await restoreToFolder(
    deps.data.content,
    snapshot,
    to,
    { ...(types ? { types: types as BackupType[] } : {}), ...(items ? { sourceIds: items } : {}) },
    { onProgress: (p) => bar.update(p.items, `${formatBytes(p.bytes)}${p.failed > 0 ? `, ${p.failed} failed` : ''}`) },
  );
  bar.finish();
  const counts = Object.entries(summary.items).map(([t, n]) => `${n} ${t}`).join(', ') || 'nothing';
  const lines = [`Restored ${counts} (${summary.skipped} skipped at backup) from ${snapshot.id} into ${to}`];
  for (const f of summary.files) lines.push(`  ${f}`);
  if (summary.partial) {
    lines.push(`Partial restore: ${summary.failed.length} item(s) and ${summary.failedFiles.length} file(s) failed (restore-report.json lists them):`);
    for (const f of summary.failed.slice(0, SHOWN_FAILURES)) lines.push(`  ${f.code} ${f.type}:${f.conversationId !== undefined ? `${f.conversationId}/` : ''}${f.sourceId}: ${f.reason}`);
    if (summary.failed.length > SHOWN_FAILURES) lines.push(`  (+${summary.failed.length - SHOWN_FAILURES} more)`);
    for (const f of summary.failedFiles) lines.push(`  ${f.code} ${f.file}: ${f.reason} (${f.itemsLost} item(s) not written)`);
  }
  return { exitCode: summary.partial ? EXIT.partial : EXIT.ok, data: summary, text: `${lines.join('\n')}\n` };
};
