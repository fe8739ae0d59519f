export { captureRunContext, withoutCredentials, LOCKFILE_NAMES, MAX_RECORDED_DIFF_BYTES, type CaptureOptions, type RunContext } from './run-context.js';
export { paramsFromEnv, startRunFromEnv, RUN_ENV } from './from-env.js';
export { createDurableFileWriter } from './durable-file.js';
export { downloadArtifactFile, onThisMachine, sameHostUnavailable, unchanged, uploadArtifactFile, type FileIdentity, type FileTransferOptions, type TransferMode } from './artifact-files.js';
