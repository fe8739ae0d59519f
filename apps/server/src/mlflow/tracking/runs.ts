import type { MetricInput } from '@chronicle/commands';
import type { KeyValue, RunDatasetInput, RunSource } from '@chronicle/domain';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_EXPERIMENT_ID } from '../../bootstrap.js';
import type { Platform } from '../../platform.js';
import {
  decodeDouble,
  invalidParameter,
  keyValues,
  missingParameter,
  MlflowError,
  optionalInt64,
  optionalString,
  requiredString,
  runIdOf,
  type MlflowMessage,
} from '../wire.js';
import { metricsKey } from './idempotency.js';
import { randomRunName } from './run-names.js';
import { commandContext, endpoint } from './routes.js';
import { PARENT_RUN_TAG, RUN_NAME_TAG, runInfoJson, runJson } from './views.js';

// MLflow's log-batch limits (mlflow/utils/validation.py).
export const MAX_METRICS_PER_BATCH = 1000;
export const MAX_PARAMS_TAGS_PER_BATCH = 100;
export const MAX_ENTITIES_PER_BATCH = 1000;
export const MAX_DATASETS_PER_REQUEST = 1000;
export const LOG_MODEL_HISTORY_TAG = 'mlflow.log-model.history';

const STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;

function batchLimit(entity: string, limit: number, length: number): void {
  if (length > limit)
    throw invalidParameter(
      `A batch logging request can contain at most ${limit} ${entity}. Got ${length} ${entity}. Please split up ${entity} across multiple requests and try again.`,
    );
}

/** One metric message; a missing timestamp or step is left for the decider's defaults (now, 0). */
export function metricOf(m: MlflowMessage, where: string): MetricInput {
  const key = optionalString(m, 'key');
  if (key === undefined || key === '') throw missingParameter(`${where}key`);
  if (m['value'] === undefined || m['value'] === null) throw missingParameter(`${where}value`);
  let value: number;
  try {
    value = decodeDouble(m['value'], `${where}value`);
  } catch {
    throw invalidParameter(`Got invalid value ${JSON.stringify(m['value'])} for metric '${key}'. Please specify value as a valid double (64-bit floating point)`);
  }
  return { key, value, timestamp: optionalInt64(m, `timestamp`), step: optionalInt64(m, 'step') };
}

function metricsOf(m: MlflowMessage): MetricInput[] {
  const list = m['metrics'];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw invalidParameter("Invalid value for parameter 'metrics' supplied: expected a list");
  batchLimit('metrics', MAX_METRICS_PER_BATCH, list.length);
  return list.map((item, i) => {
    if (item === null || typeof item !== 'object') throw invalidParameter(`metrics[${i}] must be an object`);
    return metricOf(item as MlflowMessage, `metrics[${i}].`);
  });
}

/** What MLflow clients say about the code in tags, in Chronicle's run source. */
function sourceOf(tags: readonly KeyValue[]): RunSource {
  const tag = (key: string) => tags.find((t) => t.key === key)?.value;
  const source: RunSource = {};
  const pairs = [
    ['gitCommit', 'mlflow.source.git.commit'],
    ['gitRepo', 'mlflow.source.git.repoURL'],
    ['gitBranch', 'mlflow.source.git.branch'],
    ['source', 'mlflow.source.name'],
    ['entryPoint', 'mlflow.project.entryPoint'],
  ] as const;
  for (const [field, key] of pairs) {
    const v = tag(key);
    if (v) source[field] = v;
  }
  return source;
}

function datasetsOf(m: MlflowMessage): RunDatasetInput[] {
  const list = m['datasets'];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw invalidParameter("Invalid value for parameter 'datasets' supplied: expected a list");
  if (list.length > MAX_DATASETS_PER_REQUEST)
    throw invalidParameter(`A log-inputs request can contain at most ${MAX_DATASETS_PER_REQUEST} datasets. Got ${list.length} datasets.`);
  return list.map((item, i) => {
    if (item === null || typeof item !== 'object') throw invalidParameter(`datasets[${i}] must be an object`);
    const input = item as MlflowMessage;
    const d = input['dataset'];
    if (d === null || typeof d !== 'object') throw missingParameter(`datasets[${i}].dataset`);
    const ds = d as MlflowMessage;
    return {
      name: requiredString(ds, 'name'),
      digest: requiredString(ds, 'digest'),
      sourceType: requiredString(ds, 'source_type'),
      source: requiredString(ds, 'source'),
      schema: optionalString(ds, 'schema') ?? '',
      profile: optionalString(ds, 'profile') ?? '',
      tags: keyValues(input, 'tags'),
    };
  });
}

function parseHistory(text: string): unknown[] {
  try {
    const list = JSON.parse(text) as unknown;
    if (Array.isArray(list)) return list;
  } catch {
    // answered below
  }
  throw new MlflowError('INVALID_STATE', `The run's ${LOG_MODEL_HISTORY_TAG} tag does not hold a JSON list; set it right or delete it first`);
}

/** MLflow 3's model inputs: `[{model_id}]`, the logged models a run used. */
function modelInputsOf(m: MlflowMessage): string[] {
  const list = m['models'];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw invalidParameter("Invalid value for parameter 'models' supplied: expected a list");
  if (list.length > MAX_DATASETS_PER_REQUEST)
    throw invalidParameter(`A log-inputs request can contain at most ${MAX_DATASETS_PER_REQUEST} models. Got ${list.length} models.`);
  return list.map((item, i) => {
    if (item === null || typeof item !== 'object') throw invalidParameter(`models[${i}] must be an object`);
    return requiredString(item as MlflowMessage, 'model_id');
  });
}

export function registerRunEndpoints(app: FastifyInstance, p: Platform): void {
  const existingRun = (runId: string) => {
    const r = p.read.runs.get(runId);
    if (!r) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId} not found`);
    return r;
  };
  const fullRun = (runId: string) => {
    const r = existingRun(runId);
    return runJson(r, {
      params: p.read.runs.params(runId),
      tags: p.read.runs.tags(runId),
      metrics: p.read.runs.latestMetrics(runId),
      datasets: p.read.runDatasets.list(runId),
      models: p.read.runDatasets.modelInputs(runId),
    });
  };

  // Never keyed by content: two real runs may send identical requests in the same millisecond,
  // and merging them would be far worse than a retry leaving an empty run behind. A client
  // that wants retry-safe creation sends an Idempotency-Key header.
  endpoint(app, 'POST', '/runs/create', async (m, request) => {
    const experimentId = optionalString(m, 'experiment_id') || DEFAULT_EXPERIMENT_ID;
    if (!p.read.experiments.get(experimentId)) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${experimentId} exists`);
    const tags = keyValues(m, 'tags');
    const tagName = tags.find((t) => t.key === RUN_NAME_TAG)?.value;
    let name = optionalString(m, 'run_name') ?? '';
    if (name && tagName !== undefined && tagName !== name)
      throw invalidParameter(
        `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${name}', mlflow.runName='${tagName}').`,
      );
    name ||= tagName || randomRunName();
    const withName = [...tags.filter((t) => t.key !== RUN_NAME_TAG), { key: RUN_NAME_TAG, value: name }];
    // MLflow accepts any parent; Chronicle links runs of one experiment, so others keep only the tag.
    const parentId = tags.find((t) => t.key === PARENT_RUN_TAG)?.value;
    const parent = parentId ? p.read.runs.get(parentId) : null;
    const startTime = optionalInt64(m, 'start_time');
    const res = await p.commands.runs.start(commandContext(request), {
      experimentId,
      name,
      tags: withName,
      parentRunId: parent && parent.experimentId === experimentId ? parent.runId : null,
      source: sourceOf(tags),
      ...(startTime !== undefined ? { startTime } : {}),
    });
    return { run: fullRun(res.runId) };
  });

  endpoint(app, 'GET', '/runs/get', async (m) => ({ run: fullRun(runIdOf(m)) }));

  endpoint(app, 'POST', '/runs/update', async (m, request) => {
    const runId = runIdOf(m);
    const run = existingRun(runId);
    const ctx = commandContext(request);
    const name = optionalString(m, 'run_name');
    if (name) await p.commands.runs.logBatch(ctx, runId, { metrics: [], params: [], tags: [{ key: RUN_NAME_TAG, value: name }], name });
    const status = optionalString(m, 'status');
    const endTime = optionalInt64(m, 'end_time');
    if (status !== undefined && status !== '') {
      if (!(STATUSES as readonly string[]).includes(status))
        throw invalidParameter(`Invalid value '${status}' for parameter 'status': expected one of ${STATUSES.join(', ')}`);
      if (status === 'RUNNING' || status === 'SCHEDULED') {
        if (run.status !== 'RUNNING')
          throw new MlflowError('INVALID_STATE', `Run ${runId} already ended as ${run.status}; a run's end is part of its history`);
      } else await p.commands.runs.finish(ctx, runId, status as 'FINISHED' | 'FAILED' | 'KILLED', endTime);
    }
    return { run_info: runInfoJson(existingRun(runId)) };
  });

  endpoint(app, 'POST', '/runs/delete', async (m, request) => {
    const runId = runIdOf(m);
    existingRun(runId);
    await p.commands.runs.delete(commandContext(request), runId);
    return {};
  });

  endpoint(app, 'POST', '/runs/restore', async (m, request) => {
    const runId = runIdOf(m);
    existingRun(runId);
    await p.commands.runs.restore(commandContext(request), runId);
    return {};
  });

  endpoint(app, 'POST', '/runs/log-metric', async (m, request) => {
    const runId = runIdOf(m);
    const metric = metricOf(m, '');
    await p.commands.runs.logBatch(commandContext(request), runId, { metrics: [metric], params: [], tags: [], contentKey: metricsKey(runId, [metric]) });
    return {};
  });

  endpoint(app, 'POST', '/runs/log-parameter', async (m, request) => {
    const runId = runIdOf(m);
    const key = requiredString(m, 'key');
    const value = optionalString(m, 'value');
    if (value === undefined) throw missingParameter('value');
    await p.commands.runs.logParams(commandContext(request), runId, [{ key, value }]);
    return {};
  });

  endpoint(app, 'POST', '/runs/set-tag', async (m, request) => {
    const runId = runIdOf(m);
    const tag = { key: requiredString(m, 'key'), value: optionalString(m, 'value') ?? '' };
    // MLflow keeps the run's name and its mlflow.runName tag the same.
    const name = tag.key === RUN_NAME_TAG && tag.value ? { name: tag.value } : {};
    await p.commands.runs.logBatch(commandContext(request), runId, { metrics: [], params: [], tags: [tag], ...name });
    return {};
  });

  endpoint(app, 'POST', '/runs/delete-tag', async (m, request) => {
    const runId = runIdOf(m);
    const key = requiredString(m, 'key');
    existingRun(runId);
    // A tag already gone is what the caller asked for: a retried delete must not fail.
    if (!p.read.runs.tags(runId).some((t) => t.key === key)) return {};
    await p.commands.runs.deleteTag(commandContext(request), runId, key);
    return {};
  });

  endpoint(app, 'POST', '/runs/log-batch', async (m, request) => {
    const runId = runIdOf(m);
    const metrics = metricsOf(m);
    const params = keyValues(m, 'params');
    const tags = keyValues(m, 'tags');
    batchLimit('params', MAX_PARAMS_TAGS_PER_BATCH, params.length);
    batchLimit('tags', MAX_PARAMS_TAGS_PER_BATCH, tags.length);
    batchLimit('metrics, params, and tags', MAX_ENTITIES_PER_BATCH, metrics.length + params.length + tags.length);
    if (metrics.length + params.length + tags.length === 0) return {};
    const name = tags.findLast((t) => t.key === RUN_NAME_TAG)?.value;
    await p.commands.runs.logBatch(commandContext(request), runId, {
      metrics,
      params,
      tags,
      ...(name ? { name } : {}),
      ...(metrics.length > 0 ? { contentKey: metricsKey(runId, metrics) } : {}),
    });
    return {};
  });

  // MLflow 2's log_model records the model's metadata on its run, in this tag's JSON list.
  endpoint(app, 'POST', '/runs/log-model', async (m, request) => {
    const runId = runIdOf(m);
    const text = requiredString(m, 'model_json');
    let model: unknown;
    try {
      model = JSON.parse(text);
    } catch {
      throw invalidParameter(`Invalid value for parameter 'model_json': it is not valid JSON`);
    }
    if (model === null || typeof model !== 'object' || Array.isArray(model))
      throw invalidParameter("Invalid value for parameter 'model_json': expected a JSON object");
    existingRun(runId);
    const old = p.read.runs.tags(runId).find((t) => t.key === LOG_MODEL_HISTORY_TAG)?.value;
    const history = old ? parseHistory(old) : [];
    // The same model again (its metadata carries a uuid and a time) is a retry: recorded once.
    if (history.some((h) => JSON.stringify(h) === JSON.stringify(model))) return {};
    history.push(model);
    await p.commands.runs.setTags(commandContext(request), runId, [{ key: LOG_MODEL_HISTORY_TAG, value: JSON.stringify(history) }]);
    return {};
  });

  endpoint(app, 'POST', '/runs/log-inputs', async (m, request) => {
    const runId = runIdOf(m);
    const datasets = datasetsOf(m);
    const models = modelInputsOf(m);
    if (datasets.length + models.length > 0) await p.commands.runs.logDatasets(commandContext(request), runId, datasets, models);
    else existingRun(runId);
    return {};
  });
}
