import { MODEL_STAGES, type ModelStage } from '@chronicle/domain';
import type { ModelVersionView } from '@chronicle/projections';
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../../platform.js';
import { MlflowError, invalidParameter } from '../wire.js';
import { versionJson } from './entities.js';
import { throughGates } from './gates.js';
import { requireModel } from './models-routes.js';
import { commandContext, fieldsOf, mlflowRoute, optionalBoolean, optionalString, requiredString, stringList, tagList, versionNumber } from './request.js';
import { blindRetry, type DeliveredAnswers } from './retry.js';
import { encodePageToken, parseSearch } from './search.js';
import { checkRunId, parseSource, runArtifactUri, type RunArtifactRef } from './source.js';

const VERSIONS = '/model-versions';
const MODELS = '/registered-models';

/** Where an MLflow 3 logged model keeps its files; null when there is no such logged model. */
export type LoggedModelFiles = (modelId: string) => { ref: RunArtifactRef } | null;

/** MLflow accepts stage names in any case ("production"); Chronicle records the canonical one. */
export function parseStage(stage: string): ModelStage {
  const found = MODEL_STAGES.find((s) => s.toLowerCase() === stage.toLowerCase());
  if (!found) throw invalidParameter(`Invalid Model Version stage: ${stage}. Value must be one of ${MODEL_STAGES.join(', ')}.`);
  return found;
}

export function requireVersion(platform: Platform, name: string, version: number): ModelVersionView {
  requireModel(platform, name);
  const v = platform.read.models.version(name, version);
  if (!v || v.deleted) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Model Version (name=${name}, version=${version}) not found`);
  return v;
}

/** Model versions, stages, aliases and downloads. */
export function registerVersionRoutes(app: FastifyInstance, platform: Platform, loggedModelFiles: LoggedModelFiles, deliveries: DeliveredAnswers): void {
  const { commands, read } = platform;
  const answer = (name: string, version: number) => ({ model_version: versionJson(read, requireVersion(platform, name, version)) });

  /** The run artifacts an MLflow source names, and the logged model it came from, if any. */
  function resolveSource(source: string, runId: string | undefined, modelId: string | undefined) {
    const parsed = parseSource(source);
    if (parsed.kind === 'run') return { ref: checkRunId(parsed.ref, runId, source), loggedModelId: modelId ?? null };
    if (parsed.kind === 'logged-model') {
      const files = loggedModelFiles(parsed.modelId);
      if (!files) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Logged model with ID '${parsed.modelId}' not found`);
      return { ref: checkRunId(files.ref, runId, source), loggedModelId: parsed.modelId };
    }
    // models:/name/3 or models:/name@alias: a new version of the same files.
    const { name, version, alias } = parsed;
    let from: ModelVersionView;
    if (alias !== null) {
      const held = read.models.alias(name, alias);
      if (!held) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Registered model alias ${alias} not found.`);
      from = requireVersion(platform, name, held.version);
    } else from = requireVersion(platform, name, versionNumber({ version }));
    return { ref: checkRunId({ runId: from.runId, artifactPath: from.artifactPath }, runId, source), loggedModelId: from.loggedModelId };
  }

  mlflowRoute(app, 'POST', `${VERSIONS}/create`, async (request, reply) => {
    const f = fieldsOf(request);
    const name = requiredString(f, 'name');
    const source = requiredString(f, 'source');
    const runId = optionalString(f, 'run_id') || undefined;
    const modelId = optionalString(f, 'model_id') || undefined;
    const description = optionalString(f, 'description') ?? '';
    const tags = tagList(f);
    requireModel(platform, name);
    const { ref, loggedModelId } = resolveSource(source, runId, modelId);
    if (!read.runs.get(ref.runId)) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${ref.runId} not found`);
    const retry = blindRetry(request, deliveries, 'create-model-version', [name, source, runId ?? null, modelId ?? null, description, tags]);
    const isMlflowModel = read.artifacts.get(ref.runId, ref.artifactPath === '' ? 'MLmodel' : `${ref.artifactPath}/MLmodel`) !== null;
    const res = await commands.models.createVersion(commandContext(request), {
      model: name,
      runId: ref.runId,
      artifactPath: ref.artifactPath,
      format: isMlflowModel ? 'mlflow' : null,
      description,
      source,
      tags,
      loggedModelId,
      ...(retry ? { retry } : {}),
    });
    deliveries.onDelivered(reply, retry, res.version);
    return answer(name, res.version);
  });

  mlflowRoute(app, 'GET', `${VERSIONS}/get`, async (request) => {
    const f = fieldsOf(request);
    return answer(requiredString(f, 'name'), versionNumber(f));
  });

  mlflowRoute(app, 'PATCH', `${VERSIONS}/update`, async (request) => {
    const f = fieldsOf(request);
    const name = requiredString(f, 'name');
    const version = versionNumber(f);
    requireVersion(platform, name, version);
    const description = optionalString(f, 'description');
    if (description !== undefined) await commands.models.updateVersionDescription(commandContext(request), { model: name, version, description });
    return answer(name, version);
  });

  mlflowRoute(app, 'DELETE', `${VERSIONS}/delete`, async (request) => {
    const f = fieldsOf(request);
    const name = requiredString(f, 'name');
    const version = versionNumber(f);
    requireVersion(platform, name, version);
    await commands.models.deleteVersion(commandContext(request), { model: name, version });
    return {};
  });

  mlflowRoute(app, 'GET', `${VERSIONS}/search`, async (request) => {
    const search = parseSearch(fieldsOf(request), 'versions');
    const rows = read.models.searchVersions({ ...search, limit: search.limit + 1 });
    return {
      model_versions: rows.slice(0, search.limit).map((v) => versionJson(read, v)),
      ...(rows.length > search.limit ? { next_page_token: encodePageToken(search.offset + search.limit) } : {}),
    };
  });

  mlflowRoute(app, 'POST', `${VERSIONS}/transition-stage`, async (request) => {
    const f = fieldsOf(request);
    const name = requiredString(f, 'name');
    const version = versionNumber(f);
    const stage = parseStage(requiredString(f, 'stage'));
    requireVersion(platform, name, version);
    await throughGates(
      commands.models.transitionStage(commandContext(request), {
        model: name,
        version,
        stage,
        archiveExisting: optionalBoolean(f, 'archive_existing_versions') ?? false,
      }),
    );
    return answer(name, version);
  });

  mlflowRoute(app, 'GET', `${VERSIONS}/get-download-uri`, async (request) => {
    const f = fieldsOf(request);
    const v = requireVersion(platform, requiredString(f, 'name'), versionNumber(f));
    const run = read.runs.get(v.runId);
    if (!run) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${v.runId} not found`);
    return { artifact_uri: runArtifactUri(run.experimentId, v.runId, v.artifactPath) };
  });

  mlflowRoute(app, 'POST', `${VERSIONS}/set-tag`, async (request) => {
    const f = fieldsOf(request);
    const name = requiredString(f, 'name');
    const version = versionNumber(f);
    requireVersion(platform, name, version);
    const key = requiredString(f, 'key');
    await commands.models.setVersionTag(commandContext(request), { model: name, version, key, value: optionalString(f, 'value') ?? '' });
    return {};
  });

  mlflowRoute(app, 'DELETE', `${VERSIONS}/delete-tag`, async (request) => {
    const f = fieldsOf(request);
    const name = requiredString(f, 'name');
    const version = versionNumber(f);
    requireVersion(platform, name, version);
    await commands.models.deleteVersionTag(commandContext(request), { model: name, version, key: requiredString(f, 'key') });
    return {};
  });

  // GetLatestVersions is both a POST and a GET in MLflow's service definition.
  const latestVersions = async (request: import('fastify').FastifyRequest) => {
    const f = fieldsOf(request);
    const name = requiredString(f, 'name');
    requireModel(platform, name);
    const stages = stringList(f, 'stages').map(parseStage);
    const latest = read.models.latestPerStage(name).filter((v) => stages.length === 0 || stages.includes(v.stage));
    return { model_versions: latest.map((v) => versionJson(read, v)) };
  };
  mlflowRoute(app, 'POST', `${MODELS}/get-latest-versions`, latestVersions);
  mlflowRoute(app, 'GET', `${MODELS}/get-latest-versions`, latestVersions);

  mlflowRoute(app, 'POST', `${MODELS}/alias`, async (request) => {
    const f = fieldsOf(request);
    const name = requiredString(f, 'name');
    const alias = requiredString(f, 'alias');
    const version = versionNumber(f);
    requireVersion(platform, name, version);
    await throughGates(commands.models.setAlias(commandContext(request), { model: name, alias, version }));
    return {};
  });

  mlflowRoute(app, 'DELETE', `${MODELS}/alias`, async (request) => {
    const f = fieldsOf(request);
    const name = requiredString(f, 'name');
    const alias = requiredString(f, 'alias');
    requireModel(platform, name);
    // Removing an alias nobody holds is done already (a retried delete lands here too).
    if (read.models.alias(name, alias)) await commands.models.removeAlias(commandContext(request), { model: name, alias });
    return {};
  });

  mlflowRoute(app, 'GET', `${MODELS}/alias`, async (request) => {
    const f = fieldsOf(request);
    const name = requiredString(f, 'name');
    const alias = requiredString(f, 'alias');
    requireModel(platform, name);
    const held = read.models.alias(name, alias);
    if (!held) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Registered model alias ${alias} not found.`);
    return answer(name, held.version);
  });
}
