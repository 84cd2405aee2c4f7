/**
 * `lifeboat rewrap-keys --project P`: after a master key rotation on Firebase (the secret set to
 * `NEW,OLD`), re-wraps every user's data key by fanning out `rewrapKeys` tasks, one per page of
 * users, to the deployment's `rewrapKeysTask` function (core/encryption/rewrap-fanout.ts), then
 * follows their progress until every page is done (a progress line on a terminal). `--no-wait`
 * returns once the tasks are queued. The output and exit codes are the embedded command's: 0 when
 * every key is done, 1 (with what is left) when the pages stop coming in.
 */
import { lifeboatError, newRewrapRunId, planRewrap, rewrapProgress } from '@lifeboat/engine/core';
import { flag, type CommandInput, type CommandResult } from './command';
import type { CliData } from './data';
import type { Progress } from './progress';
import { EXIT } from './spec';

/** With no page finishing for this long, the run is reported as stalled. */
export const REWRAP_STALL_MS = 10 * 60_000;

export interface RewrapDeps {
  data: CliData;
  progress(label: string, total?: number): Progress;
  pollMs: number;
  stderr: { write(text: string): unknown };
  now?: () => number;
}

export async function rewrapFanOut(input: CommandInput, deps: RewrapDeps): Promise<CommandResult> {
  const firebase = deps.data.firebase;
  if (!firebase) throw lifeboatError('failed-precondition', 'the fan-out needs a deployment\'s task queues (--project)');
  const now = deps.now ?? Date.now;
  const runId = newRewrapRunId(now());
  const plan = await planRewrap({ blobs: deps.data.blobs, queue: firebase.queue }, runId);
  if (flag(input, 'no-wait') || plan.pages === 0) {
    const text = plan.pages === 0 ? `No data keys in ${deps.data.where}: nothing to re-wrap\n` : `Queued ${plan.pages} rewrapKeys task(s) for ${plan.users} user(s) (run ${runId}); the rewrapKeysTask function re-wraps them\n`;
    return { exitCode: EXIT.ok, data: { runId, pages: plan.pages, users: plan.users, enqueued: plan.enqueued, rewrapped: 0, waited: false }, text };
  }
  const bar = deps.progress(`rewrap-keys ${runId}`, plan.pages);
  let progress = await rewrapProgress(deps.data.blobs, runId, plan.pages);
  let lastChange = now();
  let lastDone = progress.donePages;
  while (progress.donePages < plan.pages) {
    bar.update(progress.donePages, `pages, ${progress.rewrapped} key(s) re-wrapped`);
    if (now() - lastChange > REWRAP_STALL_MS) break;
    await new Promise((r) => setTimeout(r, deps.pollMs));
    progress = await rewrapProgress(deps.data.blobs, runId, plan.pages);
    if (progress.donePages !== lastDone) {
      lastDone = progress.donePages;
      lastChange = now();
    }
  }
  bar.finish();
  const masterKey = progress.masterKeys.join(',');
  const data = { runId, pages: plan.pages, users: plan.users, donePages: progress.donePages, rewrapped: progress.rewrapped, alreadyCurrent: progress.alreadyCurrent, absent: progress.absent, masterKey };
  if (progress.donePages < plan.pages) {
    deps.stderr.write(`lifeboat: deadline-exceeded: ${plan.pages - progress.donePages} of ${plan.pages} page(s) of run ${runId} did not finish within ${REWRAP_STALL_MS / 60_000} min of the last one: see the rewrapKeysTask logs, then run rewrap-keys again (it re-wraps only what is left)\n`);
    return { exitCode: EXIT.failure, data, text: `Re-wrapped ${progress.rewrapped} data key(s) under master key ${masterKey || '?'} before stalling\n` };
  }
  const text = `Re-wrapped ${progress.rewrapped} data key(s) under master key ${masterKey} (${plan.users} user(s), ${progress.alreadyCurrent} already under it, ${plan.pages} task(s))\n`;
  return { exitCode: EXIT.ok, data, text };
}
