/** The SNAPSHOT arguments of a command, resolved with its `--uid` and `--device`. */
import type { Snapshot } from '@lifeboat/engine/core';
import { stringOption, type CommandDeps, type CommandInput } from './command';
import { resolveSnapshot } from './snapshot-ref';

export function snapshotArg(input: CommandInput, deps: CommandDeps, index = 0): Promise<Snapshot> {
  const uid = stringOption(input, 'uid');
  const deviceId = stringOption(input, 'device');
  return resolveSnapshot(deps.data, input.positionals[index] as string, { ...(uid !== undefined ? { uid } : {}), ...(deviceId !== undefined ? { deviceId } : {}) });
}
