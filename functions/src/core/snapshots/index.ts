export * from './load-manifest';
export * from './verify-snapshot';
export * from './restore-items';
export * from './file-parts';
export * from './retention';
export * from './gc';
export * from './gc-lease';
export * from './retention-settings';
