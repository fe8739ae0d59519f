import type { KeyValue } from '@chronicle/domain';
import type { ExperimentView, LatestMetric, RunDatasetView, RunView } from '@chronicle/projections';
import { encodeDouble } from '../wire.js';

/** The tag MLflow keeps equal to the run's name. */
export const RUN_NAME_TAG = 'mlflow.runName';
export const PARENT_RUN_TAG = 'mlflow.parentRunId';

/** Proxied artifacts: clients resolve these through `/api/2.0/mlflow-artifacts/artifacts/...`. */
export const experimentArtifactLocation = (experimentId: string) => `mlflow-artifacts:/${experimentId}`;
export const runArtifactUri = (experimentId: string, runId: string) => `mlflow-artifacts:/${experimentId}/${runId}/artifacts`;

const lifecycleStage = (l: 'active' | 'deleted') => l;

export function experimentJson(e: ExperimentView, tags: readonly KeyValue[]) {
  return {
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: experimentArtifactLocation(e.experimentId),
    lifecycle_stage: lifecycleStage(e.lifecycle),
    last_update_time: e.updatedAt,
    creation_time: e.createdAt,
    tags: tags.map((t) => ({ key: t.key, value: t.value })),
  };
}

export function runInfoJson(r: RunView) {
  return {
    run_id: r.runId,
    run_uuid: r.runId,
    run_name: r.name,
    experiment_id: r.experimentId,
    user_id: r.userId,
    status: r.status,
    start_time: r.startTime,
    ...(r.endTime !== null ? { end_time: r.endTime } : {}),
    artifact_uri: runArtifactUri(r.experimentId, r.runId),
    lifecycle_stage: lifecycleStage(r.lifecycle),
  };
}

export const metricJson = (m: { key: string; value: number; timestamp: number; step: number }) => ({
  key: m.key,
  value: encodeDouble(m.value),
  timestamp: m.timestamp,
  step: m.step,
});

/** Tags as MLflow shows them: `mlflow.runName` always equals the run's name. */
export function runTags(r: RunView, tags: readonly KeyValue[]): KeyValue[] {
  if (r.name === '') return [...tags];
  const out = tags.filter((t) => t.key !== RUN_NAME_TAG);
  out.push({ key: RUN_NAME_TAG, value: r.name });
  return out;
}

export function datasetInputJson(d: RunDatasetView) {
  return {
    tags: d.tags.map((t) => ({ key: t.key, value: t.value })),
    dataset: {
      name: d.name,
      digest: d.digest,
      source_type: d.sourceType,
      source: d.source,
      ...(d.schema ? { schema: d.schema } : {}),
      ...(d.profile ? { profile: d.profile } : {}),
    },
  };
}

export interface RunDetails {
  params: KeyValue[];
  tags: KeyValue[];
  metrics: LatestMetric[];
  datasets: RunDatasetView[];
  models: string[];
}

export function runJson(r: RunView, d: RunDetails) {
  return {
    info: runInfoJson(r),
    data: {
      metrics: d.metrics.map(metricJson),
      params: d.params.map((p) => ({ key: p.key, value: p.value })),
      tags: runTags(r, d.tags).map((t) => ({ key: t.key, value: t.value })),
    },
    inputs: { dataset_inputs: d.datasets.map(datasetInputJson), model_inputs: d.models.map((model_id) => ({ model_id })) },
  };
}
