export * from './zoned-time';
export * from './cron';
export * from './next-run';
export * from './dispatch';
export * from './dispatch-pages';
