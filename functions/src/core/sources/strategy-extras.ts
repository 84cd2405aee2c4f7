/**
 * What a step adds to a strategy's context beyond the chunk: the media fetcher, the memory budget,
 * and for incremental chats the parent snapshot's watermarks (loaded once, on first use).
 */
import type { StrategyContext } from '../../strategies/strategy';
import { contentStoreOf, type EngineDeps } from '../deps';
import type { BackupJob } from '../model';
import { parentSnapshotOf, parentWatermarks } from './baseline';

export function strategyExtras(deps: EngineDeps, job: BackupJob): Pick<StrategyContext, 'fetchMedia' | 'chatWatermarks' | 'memory'> {
  const extras: Pick<StrategyContext, 'fetchMedia' | 'chatWatermarks' | 'memory'> = {};
  if (deps.mediaFetcher) extras.fetchMedia = deps.mediaFetcher;
  if (deps.memoryBudget) extras.memory = deps.memoryBudget;
  if (job.options.incrementalOnly) {
    let loaded: Promise<ReadonlyMap<string, string>> | undefined;
    extras.chatWatermarks = () => {
      loaded ??= (async () => {
        const parent = await parentSnapshotOf(deps.store, job, 'chats');
        return parent ? parentWatermarks(contentStoreOf(deps), parent) : new Map<string, string>();
      })();
      return loaded;
    };
  }
  return extras;
}
