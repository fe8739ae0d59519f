/** Data the API returns, with MetricValue strings already turned back into numbers (NaN, ±Infinity). */

export type Lifecycle = 'ACTIVE' | 'DELETED';
export type LifecycleFilter = 'ACTIVE' | 'DELETED' | 'ALL';
export type RunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';
export type TerminalStatus = Exclude<RunStatus, 'RUNNING'>;
export type Role = 'ADMIN' | 'MAINTAINER' | 'MEMBER' | 'VIEWER';

export interface KeyValue {
  key: string;
  value: string;
}

/** Tags and params: a plain object (values are stringified; objects as JSON) or a list of pairs. */
export type KeyValuesInput = Readonly<Record<string, unknown>> | readonly KeyValue[];

export interface Experiment {
  id: string;
  name: string;
  description: string;
  lifecycle: Lifecycle;
  createdAt: number;
  updatedAt: number;
  createdBy: string;
  tags: KeyValue[];
  runCount: number;
}

export interface LatestMetric {
  key: string;
  value: number;
  step: number;
  timestamp: number;
  count: number;
}

export interface RunSource {
  gitCommit: string | null;
  gitRepo: string | null;
  source: string | null;
  entryPoint: string | null;
  gitBranch?: string | null;
  gitDirty?: boolean | null;
  gitDiffSha256?: string | null;
  /** The command line that ran, interpreter first. */
  command?: string[] | null;
  /** Where it ran, relative to the repository root. */
  workingDir?: string | null;
}

export interface Run {
  id: string;
  experimentId: string;
  name: string;
  status: RunStatus;
  lifecycle: Lifecycle;
  startTime: number;
  endTime: number | null;
  parentRunId: string | null;
  userId: string;
  source: RunSource;
  environment: Record<string, unknown>;
  params: KeyValue[];
  tags: KeyValue[];
  metrics: LatestMetric[];
  /** The run this one reproduces (`chronicle reproduce --execute`); null for an ordinary run. */
  reproductionOfId?: string | null;
}

export interface PageInfo {
  endCursor: string | null;
  hasNextPage: boolean;
}

export interface RunPage {
  nodes: Run[];
  pageInfo: PageInfo;
  /** Runs matching the search, over all pages. */
  totalCount: number;
}

export interface MetricPoint {
  step: number;
  value: number;
  timestamp: number;
}

export interface MetricHistory {
  runId: string;
  key: string;
  totalCount: number;
  points: MetricPoint[];
}

export interface MetricSeries {
  runId: string;
  key: string;
  /** 0 when drawn from raw points, else the downsampling tier used. */
  level: number;
  /** Points stored, including NaN and infinities, which the series leaves out. */
  totalPoints: number;
  points: { step: number; value: number }[];
}

export interface MetricPointInput {
  key: string;
  value: number;
  /** Integer; the server uses 0 when omitted. */
  step?: number;
  /** Milliseconds since the epoch; the server uses its clock when omitted. */
  timestamp?: number;
}

/** The answer of the bulk ingest endpoint. */
export interface IngestResult {
  runId: string;
  accepted: number;
  position: number;
  /** True when the server had seen this idempotency key and wrote nothing. */
  replayed: boolean;
}

export interface User {
  username: string;
  role: Role;
  createdAt: number | null;
}

export interface ApiToken {
  id: string;
  username: string;
  name: string;
  issuedAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  issuedBy: string;
}

export interface CreatedToken {
  token: ApiToken;
  /** Shown this once; send it as `Authorization: Bearer <secret>`. */
  secret: string;
}

export interface Viewer {
  username: string;
  role: Role;
  authenticatedBy: string;
}
