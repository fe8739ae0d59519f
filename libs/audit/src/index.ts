export { verifyLog, type BreakKind, type IntegrityBreak, type IntegrityReport, type VerifyOptions } from './verify-log.js';
export {
  sealLog,
  headsDigest,
  AUDIT_SEALS_STREAM,
  AUDIT_SEALED,
  SEAL_ACTOR,
  type AuditSealedData,
  type SealResult,
} from './seal.js';
export { loadOrCreateSealKey, readSealKey, SEAL_KEY_FILE, type SealKey } from './seal-key.js';
export { parseAsOf, resolveAsOf, readStreamUntil, type AsOf, type ResolvedAsOf } from './as-of/resolve-position.js';
export { foldRunFacts, type RunFacts, type LatestPoint } from './facts/run-facts.js';
export * from './reproduce/index.js';
export * from './report/index.js';
