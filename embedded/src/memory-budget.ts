/**
 * The memory the embedded server's steps plan image decodes against (strategies/media-memory.ts).
 * The server aims to stay under 256 MB (the `server-rss` bench); idle it holds about 77 MiB, and
 * with two tasks at once the other may hold a media chunk of up to 16 MiB (the SDK's largest
 * whole-file chunk) while this one decodes.
 */
import type { MemoryBudget } from '@lifeboat/engine/strategies';

const MIB = 1024 * 1024;

/** @see module comment */
export const EMBEDDED_MEMORY_BUDGET: MemoryBudget = Object.freeze({ limitBytes: 256 * MIB, baselineBytes: 100 * MIB });
