export * from './wrapped-key-ring';
