/**
 * The Cloud Functions entry point: wiring only. The Firebase adapters and the exported functions
 * (callables, triggers, task queues, schedules) arrive with the Firebase runtime issue; until then
 * this package is the engine that the embedded runtime runs.
 */
export {};
