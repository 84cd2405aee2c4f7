/**
 * Options every function inherits. `setGlobalOptions` applies only to functions defined after it
 * runs, so `index.ts` imports this module before any other.
 */
import { setGlobalOptions } from 'firebase-functions/v2';
import { MASTER_KEY, REGION } from './params';

setGlobalOptions({
  region: REGION,
  // Every function sets its own memory, timeout and concurrency from its group's params
  // (resource-params.ts; defaults measured by the `limits` bench); these cover any function
  // defined without them.
  memory: '256MiB',
  // Scales out by instances, not by concurrent requests in one 256 MB instance.
  concurrency: 1,
  maxInstances: 20,
  // Callables, tasks and schedules all read or write encrypted blobs.
  secrets: [MASTER_KEY],
});
