export * from './load-manifest';
export * from './verify-snapshot';
export * from './restore-items';
export * from './retention';
