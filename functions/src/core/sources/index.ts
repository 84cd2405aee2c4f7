export * from './baseline';
export * from './complete-from-parent';
export * from './server-sources';
export * from './strategy-extras';
