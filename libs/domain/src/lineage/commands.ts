import type { ResolvedDatasetVersion } from './events.js';

/** What the handler found about the run: null, it does not exist. */
export type RunFact = { deleted: boolean } | null;

/** A resolved dataset version and whether it was deprecated when the run declared it. */
export type DatasetVersionFact = ResolvedDatasetVersion & { deprecated: boolean };

export type DeclareRunInputs = {
  type: 'DeclareRunInputs';
  // Roles arrive unchecked from callers; the decider refuses unknown ones.
  data: { runId: string; run: RunFact; inputs: (DatasetVersionFact & { role: string })[]; at: number };
};
export type DeclareRunOutputs = {
  type: 'DeclareRunOutputs';
  data: { runId: string; run: RunFact; outputs: DatasetVersionFact[]; at: number };
};

export type RunLineageCommand = DeclareRunInputs | DeclareRunOutputs;
