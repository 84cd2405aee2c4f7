/**
 * Lifeboat's client protocol: the callables' names, the schemas of what they take and answer, the
 * documents inside those answers, the error codes, and the pure helpers both sides must compute
 * the same way. The server and the SDK both import it; it depends on zod alone.
 */
export * from './documents';
export * from './inputs';
export * from './results';
export * from './callables';
export * from './errors';
export { inFileOrder } from './file-order';
export { reportOfRecord } from './verify-report';
export { RECORD_LIMITS, SKIPPED_MARKER, recordBytesReason, recordJson } from './record-limits';
export { splitLines } from './ndjson';
