export * from './wrapped-key-ring';
export * from './rewrap-fanout';
