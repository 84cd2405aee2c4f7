/**
 * What a step adds to a strategy's context beyond the chunk: the media fetcher, and for
 * incremental chats the parent snapshot's watermarks (loaded once, on first use).
 */
import type { StrategyContext } from '../../strategies/strategy';
import { contentStoreOf, type EngineDeps } from '../deps';
import type { BackupJob } from '../model';
import { parentSnapshotOf, parentWatermarks } from './baseline';

export function strategyExtras(deps: EngineDeps, job: BackupJob): Pick<StrategyContext, 'fetchMedia' | 'chatWatermarks'> {
  const extras: Pick<StrategyContext, 'fetchMedia' | 'chatWatermarks'> = {};
  if (deps.mediaFetcher) extras.fetchMedia = deps.mediaFetcher;
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
