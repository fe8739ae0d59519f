export { loadConfig, type ServerConfig } from './config.js';
export { startServer, stopOnSignals, type RunningServer } from './server.js';
export { openPlatform, DATABASE_FILE, type Platform } from './platform.js';
export { ADMIN_TOKEN_FILE, DEFAULT_EXPERIMENT_ID } from './bootstrap.js';
export { createHttpApp } from './http/app.js';
export { replayDataDir, type ReplayProgress, type ReplayResult } from './replay-offline.js';
