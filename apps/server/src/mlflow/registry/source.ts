import { MlflowError, invalidParameter } from '../wire.js';

/**
 * Where a model version's files are, in Chronicle's terms: a path among a run's artifacts.
 * Chronicle registers only content it holds (the version records its hash), so an MLflow
 * `source` must name run artifacts stored here.
 */
export interface RunArtifactRef {
  runId: string;
  /** '' for the run's whole artifact tree. */
  artifactPath: string;
}

/** A run's artifact root in the proxied-artifact scheme, as MLflow's own server lays it out. */
export const runArtifactRoot = (experimentId: string, runId: string) => `mlflow-artifacts:/${experimentId}/${runId}/artifacts`;

export const runArtifactUri = (experimentId: string, runId: string, path: string) =>
  path === '' ? runArtifactRoot(experimentId, runId) : `${runArtifactRoot(experimentId, runId)}/${path}`;

const trimSlashes = (p: string) => p.replace(/^\/+|\/+$/g, '');

// mlflow-artifacts:/<experiment>/<run>/artifacts[/path], with an optional //host[:port] authority.
const PROXIED = /^mlflow-artifacts:(?:\/\/[^/]*)?\/+([^/]+)\/([^/]+)\/artifacts(?:\/(.*))?$/;
const RUNS = /^runs:\/+([^/]+)(?:\/(.*))?$/;
const LOGGED_MODEL = /^models:\/+(m-[0-9a-f]{32})\/?$/;
const REGISTERED = /^models:\/+([^/@]+)(?:\/([^/]+)|@(.+))\/?$/;

export type ParsedSource =
  | { kind: 'run'; ref: RunArtifactRef }
  | { kind: 'logged-model'; modelId: string }
  | { kind: 'registered'; name: string; version: string | null; alias: string | null };

export function parseSource(source: string): ParsedSource {
  let m = PROXIED.exec(source);
  if (m) return { kind: 'run', ref: { runId: m[2]!, artifactPath: trimSlashes(decodeURIComponent(m[3] ?? '')) } };
  m = RUNS.exec(source);
  if (m) return { kind: 'run', ref: { runId: m[1]!, artifactPath: trimSlashes(m[2] ?? '') } };
  m = LOGGED_MODEL.exec(source);
  if (m) return { kind: 'logged-model', modelId: m[1]! };
  m = REGISTERED.exec(source);
  if (m) return { kind: 'registered', name: m[1]!, version: m[2] ?? null, alias: m[3] ?? null };
  throw invalidParameter(
    `Unsupported model version source '${source}': Chronicle registers model files it stores, so the source must be ` +
      `runs:/<run_id>/<path>, mlflow-artifacts:/<experiment_id>/<run_id>/artifacts/<path>, models:/<model_id> or models:/<name>/<version>`,
  );
}

/** The run a version's files belong to must be the run the client named, if it named one. */
export function checkRunId(ref: RunArtifactRef, runId: string | undefined, source: string): RunArtifactRef {
  if (runId && runId !== ref.runId)
    throw new MlflowError('INVALID_PARAMETER_VALUE', `source '${source}' is an artifact of run ${ref.runId}, not of run_id ${runId}`);
  return ref;
}
