import type { JsonMetricValue, KeyValue, RecordedEvent, RunSource, RunStatus } from '@chronicle/domain';
import type { IntegrityBreak } from '../verify-log.js';

export const AUDIT_REPORT_SCHEMA = 'chronicle.audit-report/v1';

/** Who did something and when: the envelope of the event that records it. */
export interface Stamp {
  /** `user:<name>` or `system:<component>`. */
  actor: string;
  /** Milliseconds since the epoch, when the log recorded it. */
  at: number;
  position: number;
}

export interface ReportRuleCheck {
  kind: string;
  rule: string;
  passed: boolean;
  message: string;
}

export interface ReportGateDecision {
  gatesVersion: number;
  holderVersion: number | null;
  checks: ReportRuleCheck[];
}

/** A pointer move that concerns the version: it gained an alias or stage (promotion) or lost one (demotion). */
export interface ReportPointerMove extends Stamp {
  direction: 'promotion' | 'demotion';
  kind: 'alias' | 'stage';
  /** The alias or stage. */
  target: string;
  /** alias_set, alias_moved_away, alias_removed, stage_changed. */
  action: 'alias_set' | 'alias_moved_away' | 'alias_removed' | 'stage_changed';
  /** For aliases, the versions that held it before and after; for stages, the version's stage before and after. */
  from: string | null;
  to: string | null;
  /** The gate check that let this move through, when gates were in force. */
  gate: ReportGateDecision | null;
}

export interface ReportRefusal extends Stamp {
  target: string;
  gatesVersion: number;
  holderVersion: number | null;
  failures: ReportRuleCheck[];
}

export interface ReportApproval extends Stamp {
  target: string;
  username: string;
  role: string;
  comment: string;
}

export interface ReportGateConfig extends Stamp {
  target: string;
  version: number;
  metricRules: string[];
  requiredInputs: unknown[];
  approval: { count: number; minRole: string } | null;
}

export interface ReportDeployment {
  environment: string;
  deploymentId: string;
  requested: Stamp;
  reason: string;
  /** The deployment this one rolled back, if it is a rollback. */
  rollbackOf: string | null;
  restores: string | null;
  status: 'requested' | 'started' | 'succeeded' | 'failed' | 'timed_out';
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  attempts: number;
  /** When it went live (succeeded) and until another deployment replaced it; null until: still live. */
  liveFrom: number | null;
  liveUntil: number | null;
  replacedBy: string | null;
  /** A later deployment that rolled this one back. */
  rolledBackBy: (Stamp & { deploymentId: string }) | null;
}

export interface ReportDataInput {
  dataset: string;
  version: number;
  versionId: string;
  role: string;
  declared: Stamp;
  manifestSha256: string | null;
  fileCount: number | null;
  totalBytes: number | null;
  message: string | null;
  committed: Stamp | null;
  deprecated: boolean;
  deprecationReason: string | null;
}

export interface ReportMetric {
  key: string;
  value: JsonMetricValue;
  step: number;
}

export interface ReportStreamIntegrity {
  stream: string;
  /** Events of the stream the report read (up to the as-of position). */
  events: number;
  /** The last of those events: a later check can pin the report to this hash. */
  lastRevision: number;
  lastHash: string;
  ok: boolean;
  breaks: IntegrityBreak[];
}

export interface ReportIntegrity {
  /** false when verification was skipped; every other field is then null or empty. */
  verified: boolean;
  /** No break in any stream the report relies on. */
  ok: boolean | null;
  /** No break anywhere in the log. */
  logOk: boolean | null;
  verifiedUpTo: number | null;
  sealsVerified: number | null;
  lastSealedPosition: number | null;
  streams: ReportStreamIntegrity[];
  /** Breaks in streams this report does not rely on. */
  otherBreaks: number;
}

export interface ReportTimelineEntry extends Stamp {
  stream: string;
  type: string;
  what: string;
}

export interface ModelVersionAuditReport {
  schema: typeof AUDIT_REPORT_SCHEMA;
  generatedAt: number;
  asOf: { position: number; recordedAt: number | null; head: number; latest: boolean };
  model: { name: string; description: string; registered: Stamp | null; previousNames: string[] };
  version: {
    version: number;
    created: Stamp;
    runId: string;
    artifactPath: string;
    sha256: string;
    size: number;
    format: string | null;
    description: string;
    /** Where the version stands at the as-of position. */
    stage: string;
    aliases: string[];
    deleted: Stamp | null;
  };
  training: {
    runId: string;
    name: string;
    experimentId: string;
    started: Stamp;
    startTime: number;
    endTime: number | null;
    status: RunStatus;
    source: RunSource;
    params: KeyValue[];
    metrics: ReportMetric[];
    environment: Record<string, unknown>;
    reproductionOf: string | null;
  } | null;
  data: ReportDataInput[];
  approvals: ReportApproval[];
  promotions: ReportPointerMove[];
  refusals: ReportRefusal[];
  /** Every gate configuration, of every target this version was promoted to, refused for or approved for. */
  gates: ReportGateConfig[];
  deployments: ReportDeployment[];
  integrity: ReportIntegrity;
  timeline: ReportTimelineEntry[];
  /** What the record does not show, one sentence each. */
  gaps: string[];
}

export const stampOf = (e: RecordedEvent): Stamp => ({ actor: e.actor, at: e.recordedAt, position: e.position });
