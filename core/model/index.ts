export * from './api-key.js';
export * from './common.js';
export * from './game.js';
export * from './host.js';
export * from './job.js';
export * from './origin.js';
export * from './package.js';
export * from './release.js';
