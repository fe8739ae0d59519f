import { newLoggedModelId } from '@chronicle/commands';
import type { LoggedModelStatus } from '@chronicle/domain';
import type { LoggedModelCondition, LoggedModelView } from '@chronicle/projections';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Platform } from '../platform.js';
import { commandContext, fieldsOf, mlflowRoute, optionalInteger, optionalString, requiredString, tagList, type Fields } from './registry/request.js';
import { encodePageToken } from './registry/search.js';
import { runArtifactUri, type RunArtifactRef } from './registry/source.js';
import { MlflowError, invalidParameter } from './wire.js';

/**
 * MLflow 3's logged models (`/api/2.0/mlflow/logged-models`), which `log_model` creates before
 * it uploads a model's files and registers it. Their files are artifacts of a run: the run that
 * logged the model, or, when it was logged outside a running run, a run started to hold them
 * (tagged `mlflow.loggedModelId`, finished when the model is finalized).
 */

const API = '/logged-models';
const HOLDER_TAG = 'mlflow.loggedModelId';

// protobuf-JSON writes enums by name; clients may send the number.
const STATUS_NAMES: Record<LoggedModelStatus, string> = {
  PENDING: 'LOGGED_MODEL_PENDING',
  READY: 'LOGGED_MODEL_READY',
  FAILED: 'LOGGED_MODEL_UPLOAD_FAILED',
};
const STATUS_BY_WIRE: Record<string, LoggedModelStatus> = {
  LOGGED_MODEL_PENDING: 'PENDING',
  LOGGED_MODEL_READY: 'READY',
  LOGGED_MODEL_UPLOAD_FAILED: 'FAILED',
  '1': 'PENDING',
  '2': 'READY',
  '3': 'FAILED',
};

type ModelIdRequest = FastifyRequest<{ Params: { model_id: string; tag_key?: string } }>;

/** The run artifacts holding a logged model's files: for registering it as a model version. */
export function loggedModelFiles(platform: Platform, modelId: string): { ref: RunArtifactRef } | null {
  const m = platform.read.loggedModels.get(modelId);
  return m && !m.deleted ? { ref: { runId: m.filesRunId, artifactPath: m.artifactPath } } : null;
}

function requireLoggedModel(platform: Platform, modelId: string): LoggedModelView {
  const m = platform.read.loggedModels.get(modelId);
  if (!m || m.deleted) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Logged model with ID '${modelId}' not found`);
  return m;
}

function loggedModelJson(platform: Platform, m: LoggedModelView) {
  const run = platform.read.runs.get(m.filesRunId);
  const registrations = platform.read.models.searchVersions({
    conditions: [{ field: 'logged_model_id', op: '=', value: m.modelId }],
    orderBy: [],
    limit: 1000,
    offset: 0,
  });
  return {
    info: {
      model_id: m.modelId,
      experiment_id: m.experimentId,
      name: m.name,
      creation_timestamp_ms: m.createdAt,
      last_updated_timestamp_ms: m.updatedAt,
      artifact_uri: runArtifactUri(run?.experimentId ?? m.experimentId, m.filesRunId, m.artifactPath),
      status: STATUS_NAMES[m.status],
      model_type: m.modelType,
      ...(m.sourceRunId ? { source_run_id: m.sourceRunId } : {}),
      tags: m.tags,
      registrations: registrations.map((v) => ({ name: v.model, version: String(v.version) })),
    },
    data: { params: m.params, metrics: [] },
  };
}

/** `name = 'x' AND tags.k = 'v' AND source_run_id = '...'`: the conditions MLflow's clients send. */
function parseLoggedModelFilter(filter: string): LoggedModelCondition[] {
  if (filter.trim() === '') return [];
  return filter.split(/\s+AND\s+/i).map((clause) => {
    const m = /^\s*(?:(tags|params|attributes?)\.)?`?([\w.\- ]+?)`?\s*(=|!=|LIKE|ILIKE)\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*$/i.exec(clause);
    if (!m) throw invalidParameter(`Invalid filter '${filter}': could not parse '${clause.trim()}'; compare name, model_id, source_run_id, status, model_type, tags.<key> or params.<key> with a quoted string`);
    const entity = (m[1] ?? 'attributes').toLowerCase();
    const value = (m[4] ?? m[5] ?? '').replace(/\\(.)/g, '$1');
    const op = m[3]!.toUpperCase() as '=' | '!=' | 'LIKE' | 'ILIKE';
    if (entity === 'tags' || entity === 'params') {
      if (op !== '=' && op !== '!=') throw invalidParameter(`Invalid filter '${filter}': ${entity} compare with = or !=`);
      return { field: entity === 'tags' ? 'tag' : 'param', key: m[2]!, op, value };
    }
    const field = m[2]!.toLowerCase();
    if (field !== 'name' && field !== 'model_id' && field !== 'source_run_id' && field !== 'status' && field !== 'model_type')
      throw invalidParameter(`Invalid filter '${filter}': unknown field '${m[2]}'`);
    return { field, op, value: field === 'status' ? (STATUS_BY_WIRE[value] ?? value) : value };
  });
}

const ORDER_FIELDS: Record<string, 'name' | 'created_at' | 'updated_at' | 'model_id'> = {
  name: 'name',
  creation_timestamp: 'created_at',
  creation_time: 'created_at',
  last_updated_timestamp: 'updated_at',
  model_id: 'model_id',
};

function parseOrder(f: Fields) {
  const raw = f['order_by'];
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidParameter(`Invalid value for parameter 'order_by': expected a list of {field_name, ascending}`);
  return raw.map((o: { field_name?: unknown; ascending?: unknown }) => {
    const field = typeof o?.field_name === 'string' ? ORDER_FIELDS[o.field_name.replace(/^attributes?\./, '')] : undefined;
    if (!field) throw invalidParameter(`Invalid order_by field ${JSON.stringify(o?.field_name)}: order by ${Object.keys(ORDER_FIELDS).join(', ')}`);
    return { field, descending: o.ascending === false };
  });
}

export function registerLoggedModels(app: FastifyInstance, platform: Platform): void {
  const { commands, read } = platform;
  const answer = (modelId: string) => ({ model: loggedModelJson(platform, requireLoggedModel(platform, modelId)) });

  mlflowRoute(app, 'POST', API, async (request) => {
    const f = fieldsOf(request);
    const ctx = commandContext(request);
    const experimentId = requiredString(f, 'experiment_id');
    if (!read.experiments.get(experimentId)) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${experimentId} exists`);
    const sourceRunId = optionalString(f, 'source_run_id') || null;
    const modelId = newLoggedModelId();
    const name = optionalString(f, 'name') || `model-${modelId.slice(2, 10)}`;
    let filesRunId = sourceRunId;
    if (sourceRunId !== null) {
      const run = read.runs.get(sourceRunId);
      if (!run) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${sourceRunId} not found`);
      // A finished run takes no more artifacts; the files then go to a run of their own.
      if (run.status !== 'RUNNING' || run.lifecycle !== 'active') filesRunId = null;
    }
    if (filesRunId === null) {
      const holder = await commands.runs.start(ctx, {
        experimentId,
        name: `logged model ${name}`,
        tags: [{ key: HOLDER_TAG, value: modelId }],
      });
      filesRunId = holder.runId;
    }
    await commands.loggedModels.create(ctx, {
      modelId,
      experimentId,
      name,
      modelType: optionalString(f, 'model_type') ?? '',
      sourceRunId,
      filesRunId,
      params: tagList(f, 'params'),
      tags: tagList(f, 'tags'),
    });
    return answer(modelId);
  });

  mlflowRoute(app, 'POST', `${API}/search`, async (request) => {
    const f = fieldsOf(request);
    const experimentIds = f['experiment_ids'];
    if (!Array.isArray(experimentIds) || experimentIds.length === 0 || experimentIds.some((e) => typeof e !== 'string'))
      throw invalidParameter(`Missing value for required parameter 'experiment_ids'.`);
    const limit = optionalInteger(f, 'max_results') ?? 100;
    if (limit < 1 || limit > 1000) throw invalidParameter(`Invalid value ${limit} for parameter 'max_results': it must be between 1 and 1000`);
    if (Array.isArray(f['datasets']) && f['datasets'].length > 0) throw new MlflowError('INVALID_PARAMETER_VALUE', 'Chronicle does not search logged models by dataset');
    const token = optionalString(f, 'page_token');
    let offset = 0;
    if (token) {
      try {
        offset = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset: number }).offset;
      } catch {
        throw invalidParameter(`Invalid page token '${token}'`);
      }
      if (!Number.isSafeInteger(offset) || offset < 0) throw invalidParameter(`Invalid page token '${token}'`);
    }
    const rows = read.loggedModels.search({
      experimentIds: experimentIds as string[],
      conditions: parseLoggedModelFilter(optionalString(f, 'filter') ?? ''),
      orderBy: parseOrder(f),
      limit: limit + 1,
      offset,
    });
    return {
      models: rows.slice(0, limit).map((m) => loggedModelJson(platform, m)),
      ...(rows.length > limit ? { next_page_token: encodePageToken(offset + limit) } : {}),
    };
  });

  mlflowRoute(app, 'GET', `${API}/:model_id`, async (request: ModelIdRequest) => answer(request.params.model_id));

  mlflowRoute(app, 'PATCH', `${API}/:model_id`, async (request: ModelIdRequest) => {
    const f = fieldsOf(request);
    const modelId = request.params.model_id;
    const m = requireLoggedModel(platform, modelId);
    const status = STATUS_BY_WIRE[String(f['status'])];
    if (status !== 'READY' && status !== 'FAILED')
      throw invalidParameter(`Invalid value ${JSON.stringify(f['status'])} for parameter 'status': finalize as LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED`);
    const ctx = commandContext(request);
    await commands.loggedModels.finalize(ctx, { modelId, status });
    // A run started only to hold this model's files is done when the model is.
    const holder = read.runs.get(m.filesRunId);
    if (m.sourceRunId !== m.filesRunId && holder?.status === 'RUNNING')
      await commands.runs.finish(ctx, m.filesRunId, status === 'READY' ? 'FINISHED' : 'FAILED');
    return answer(modelId);
  });

  mlflowRoute(app, 'DELETE', `${API}/:model_id`, async (request: ModelIdRequest) => {
    requireLoggedModel(platform, request.params.model_id);
    await commands.loggedModels.delete(commandContext(request), { modelId: request.params.model_id });
    return {};
  });

  mlflowRoute(app, 'PATCH', `${API}/:model_id/tags`, async (request: ModelIdRequest) => {
    requireLoggedModel(platform, request.params.model_id);
    await commands.loggedModels.setTags(commandContext(request), { modelId: request.params.model_id, tags: tagList(fieldsOf(request)) });
    return answer(request.params.model_id);
  });

  mlflowRoute(app, 'DELETE', `${API}/:model_id/tags/:tag_key`, async (request: ModelIdRequest) => {
    requireLoggedModel(platform, request.params.model_id);
    await commands.loggedModels.deleteTag(commandContext(request), { modelId: request.params.model_id, key: request.params.tag_key ?? '' });
    return {};
  });

  mlflowRoute(app, 'POST', `${API}/:model_id/params`, async (request: ModelIdRequest) => {
    requireLoggedModel(platform, request.params.model_id);
    await commands.loggedModels.logParams(commandContext(request), { modelId: request.params.model_id, params: tagList(fieldsOf(request), 'params') });
    return {};
  });

  // log_model declares the model an output of its run (MLflow's LogOutputs).
  mlflowRoute(app, 'POST', '/runs/outputs', async (request) => {
    const f = fieldsOf(request);
    const runId = requiredString(f, 'run_id');
    if (!read.runs.get(runId)) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId} not found`);
    const models = f['models'] ?? [];
    if (!Array.isArray(models)) throw invalidParameter(`Invalid value for parameter 'models': expected a list of {model_id, step}`);
    const ctx = commandContext(request);
    for (const o of models as { model_id?: unknown; step?: unknown }[]) {
      const modelId = requiredString(o as Fields, 'model_id');
      requireLoggedModel(platform, modelId);
      await commands.loggedModels.logOutput(ctx, { modelId, runId, step: optionalInteger(o as Fields, 'step') ?? 0 });
    }
    return {};
  });
}
