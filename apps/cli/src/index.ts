export { buildProgram, runCli, VERSION } from './program.js';
export { processIo, type Io } from './output.js';
export { importMetrics, type ImportFormat, type ImportProgress, type ImportResult } from './import-metrics.js';
