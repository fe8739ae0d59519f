/** Selection sets shared by the API modules; names follow libs/graphql/schema.graphql. */
import { decodeMetricValue } from './metric-value.js';
import type { Run } from './types.js';

export const EXPERIMENT_FIELDS = `fragment ExperimentFields on Experiment {
  id name description lifecycle createdAt updatedAt createdBy runCount tags { key value }
}`;

export const RUN_FIELDS = `fragment RunFields on Run {
  id experimentId name status lifecycle startTime endTime parentRunId userId environment
  source { gitCommit gitRepo source entryPoint gitBranch gitDirty gitDiffSha256 command workingDir }
  reproductionOfId
  params { key value }
  tags { key value }
  metrics { key value step timestamp count }
}`;

export const TOKEN_FIELDS = `fragment TokenFields on ApiToken { id username name issuedAt expiresAt revokedAt issuedBy }`;

type WireRun = Omit<Run, 'metrics'> & { metrics: (Omit<Run['metrics'][number], 'value'> & { value: unknown })[] };

export function decodeRun(raw: WireRun): Run {
  return { ...raw, metrics: raw.metrics.map((m) => ({ ...m, value: decodeMetricValue(m.value) })) };
}

export type { WireRun };
