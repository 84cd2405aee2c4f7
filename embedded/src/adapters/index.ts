export * from './sqlite-database';
export * from './sqlite-job-store';
export * from './folder-blob-store';
export * from './sqlite-task-queue';
export * from './sqlite-chat-source';
export * from './sqlite-admin-store';
export * from './sqlite-queue-monitor';
