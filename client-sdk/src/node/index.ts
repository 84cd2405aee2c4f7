/** Node entry point: the SDK with Node defaults (a file-backed key-value store). */
export * from '../index';
export { fileKeyValueStore } from './file-key-value-store';
