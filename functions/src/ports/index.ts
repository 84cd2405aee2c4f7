export * from './common';
export * from './clock';
export * from './notifier';
export * from './blob-store';
export * from './task-queue';
export * from './job-store';
export * from './upload-sessions';
export * from './logger';
