/**
 * The SDK's one runtime door to the protocol (`@lifeboat/protocol`) and zod: every other module
 * imports their values from here (types may come from the package itself). The build compiles this
 * module alone into a bundle of just what it exports, zod tree-shaken to what those use
 * (`scripts/bundle-protocol.mjs`), so an app's bundler, React Native's Metro included, which takes
 * whole CommonJS files and shakes nothing, carries about a fifth of zod instead of all of it.
 */
export { CALLABLES, errorCodeOfStatus, inFileOrder, recordBytesReason, recordJson, RECORD_LIMITS, reportOfRecord, SKIPPED_MARKER, splitLines } from '@lifeboat/protocol';
export { prettifyError } from 'zod';
