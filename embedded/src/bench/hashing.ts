/**
 * `npm run bench -- --only=hashing`: the SDK's SHA-256 throughput with its pure-JS default
 * (`nobleHasher`, what React Native and browsers get unless the app plugs a native hasher) and with
 * the Node entry's `nodeHasher()` (node:crypto), fed 1 MiB at a time as the SDK feeds a file.
 *
 * Timings are of this machine at this moment: compare the two within one run (the ratio), not
 * across runs. Each is the best of a few passes, so a neighbour's burst costs one pass, not the row.
 */
import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { nobleHasher, type Hasher } from '@lifeboat/client-sdk';
import { nodeHasher } from '@lifeboat/client-sdk/node';

const PIECE = 1024 * 1024;

/** MiB/s of the best of `passes` passes over `mib` MiB. */
export function hashThroughput(hasher: Hasher, mib: number, passes = 3): { mibPerSecond: number; digest: string } {
  const piece = randomFillSync(new Uint8Array(PIECE));
  let best = Number.POSITIVE_INFINITY;
  let digest = '';
  for (let pass = 0; pass < passes; pass++) {
    const started = performance.now();
    const hash = hasher.sha256();
    for (let i = 0; i < mib; i++) hash.update(piece);
    digest = hash.digestHex();
    best = Math.min(best, performance.now() - started);
  }
  return { mibPerSecond: mib / (best / 1000), digest };
}

export function hashingBench(row: (k: string, v: string) => void, mib = 64): void {
  const noble = hashThroughput(nobleHasher, mib);
  const node = hashThroughput(nodeHasher(), mib);
  row(`hashing: SDK default (${nobleHasher.name}), ${mib} MiB in 1 MiB pieces`, `${noble.mibPerSecond.toFixed(0)} MiB/s (best of 3)`);
  row(`hashing: Node entry (${nodeHasher().name}), ${mib} MiB in 1 MiB pieces`, `${node.mibPerSecond.toFixed(0)} MiB/s (best of 3), ${(node.mibPerSecond / noble.mibPerSecond).toFixed(1)}x the default`);
}
