/**
 * Scaling checks for parsers (issue 16: every parser runs in time linear in its input). The time
 * of a hostile input of size n is compared with the same input at 4n, as a ratio of CPU times
 * within one run, so a slow or busy machine changes both sides alike; never an absolute time. Four times the input
 * keeps linear (about 4x) and quadratic (16x) far apart, where a doubling (2x against 4x) let a
 * busy machine's noise decide.
 */
export interface ScalingResult {
  /** Best time of the n-sized input, ms. */
  small: number;
  /** Best time of the 4n-sized input, ms. */
  large: number;
  ratio: number;
}

/**
 * The work's CPU time (this process, all its threads), ms. CPU time, not wall time: on a busy
 * machine (other test workers, other jobs on a shared host) wall time also counts the time the
 * process waited for a core, which once made a linear parser look 13x slower at 4x the input;
 * what the process itself spent does not wait.
 */
async function time(work: () => unknown): Promise<number> {
  const start = process.cpuUsage();
  await work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** How much larger the large input is. */
const SCALE = 4;

/**
 * Builds the input at `n` and `4n` (untimed), warms the code up, then takes the best of a few
 * interleaved runs of each. Linear code gives a ratio near 4 (n log n a little more); quadratic
 * code gives 16. Pick `n` so one run of the large input takes tens of milliseconds, well under a
 * second.
 */
export async function measureScaling<T>(n: number, build: (n: number) => T, run: (input: T) => unknown, repeats = 3): Promise<ScalingResult> {
  const smallInput = build(n);
  const largeInput = build(SCALE * n);
  await run(build(Math.max(1, Math.floor(n / 4))));
  await run(smallInput);
  let small = Infinity;
  let large = Infinity;
  for (let i = 0; i < repeats; i++) {
    small = Math.min(small, await time(() => run(smallInput)));
    large = Math.min(large, await time(() => run(largeInput)));
  }
  // Below a few milliseconds the timer, a collection or another process decides the ratio, not
  // the code (a constant-time decode of 8 MB once measured 1 ms against 4 ms on a busy machine).
  const floor = 5;
  // A constant-time step (both under the floor) compares as linear.
  return { small, large, ratio: Math.max(large, floor) / Math.max(small, floor) };
}

/** The bound the tests hold a 4x input to: generous for noise, still half of quadratic's 16. */
export const LINEAR_RATIO_BOUND = 8;

/**
 * Fails with both times when quadrupling the input more than `bound`-folds the time. A ratio over
 * the bound is measured once more before failing: a busy machine (other test workers, a garbage
 * collection) can spoil one measurement, while quadratic code fails every time.
 */
export async function expectLinear<T>(what: string, n: number, build: (n: number) => T, run: (input: T) => unknown, bound = LINEAR_RATIO_BOUND): Promise<ScalingResult> {
  let result = await measureScaling(n, build, run);
  if (!(result.ratio < bound)) result = await measureScaling(n, build, run);
  if (!(result.ratio < bound)) {
    throw new Error(`${what}: 4x the input took ${result.ratio.toFixed(2)}x as long (${result.small.toFixed(1)} ms -> ${result.large.toFixed(1)} ms), more than ${bound}x`);
  }
  return result;
}
