/**
 * `lifeboat diff SNAPSHOT1 SNAPSHOT2`: items added, removed and changed per type, from the two
 * manifests (no blob is read); every changed item under `--items`, restic's `+`, `-`, `M`.
 */
import { diffSnapshots } from '@lifeboat/engine/core';
import { flag, type CommandHandler } from './command';
import { snapshotArg } from './snapshot-arg';
import { EXIT } from './spec';

const MARK = { added: '+', removed: '-', changed: 'M' } as const;

export const diffCommand: CommandHandler = async (input, deps) => {
  const from = await snapshotArg(input, deps, 0);
  const to = await snapshotArg(input, deps, 1);
  const diff = await diffSnapshots(deps.data.content, from, to, { items: flag(input, 'items') });
  const lines = [`comparing ${from.id} (${new Date(from.createdAt).toISOString()}) to ${to.id} (${new Date(to.createdAt).toISOString()})`];
  for (const item of diff.items ?? []) {
    lines.push(`${MARK[item.change]}  ${item.type.padEnd(10)} ${item.conversationId !== undefined ? `${item.conversationId}/` : ''}${item.sourceId}`);
  }
  for (const [type, d] of Object.entries(diff.byType)) {
    lines.push(`${type}: ${d.added} added, ${d.removed} removed, ${d.changed} changed, ${d.unchanged} unchanged`);
  }
  const t0 = from.totals;
  const t1 = to.totals;
  lines.push(`items ${t0.items} -> ${t1.items}, original ${t0.originalBytes} B -> ${t1.originalBytes} B, stored ${t0.storedBytes} B -> ${t1.storedBytes} B`);
  return { exitCode: EXIT.ok, data: diff, text: `${lines.join('\n')}\n` };
};
