export * from './deletion-state';
export * from './delete-user-data';
export * from './delete-snapshot';
