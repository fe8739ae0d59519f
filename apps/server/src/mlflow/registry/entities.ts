import type { ModelVersionView, ModelView, ReadModels } from '@chronicle/projections';

/**
 * Registry read models in MLflow's protobuf-JSON: snake_case, version numbers as strings,
 * times in milliseconds, every version READY (Chronicle registers only content it already
 * holds, so there is no pending copy).
 */

/** `user:ana` → `ana`, as MLflow shows who did something. */
export const userIdOf = (actor: string) => actor.replace(/^(user|system):/, '');

/** A version's MLflow `source`: what the client registered, or the run artifact for native versions. */
export const sourceOf = (v: ModelVersionView) => v.source ?? `runs:/${v.runId}/${v.artifactPath}`;

export function modelVersionJson(v: ModelVersionView, aliases: readonly string[]) {
  return {
    name: v.model,
    version: String(v.version),
    creation_timestamp: v.createdAt,
    last_updated_timestamp: v.updatedAt,
    user_id: userIdOf(v.createdBy),
    current_stage: v.stage,
    description: v.description,
    source: sourceOf(v),
    run_id: v.runId,
    status: 'READY',
    tags: v.tags.map((t) => ({ key: t.key, value: t.value })),
    aliases: [...aliases],
    ...(v.loggedModelId ? { model_id: v.loggedModelId } : {}),
  };
}

export function registeredModelJson(read: ReadModels, m: ModelView) {
  const aliases = read.models.aliases(m.name);
  const aliasesOf = (version: number) => aliases.filter((a) => a.version === version).map((a) => a.alias);
  return {
    name: m.name,
    creation_timestamp: m.createdAt,
    last_updated_timestamp: m.updatedAt,
    user_id: userIdOf(m.createdBy),
    description: m.description,
    latest_versions: read.models.latestPerStage(m.name).map((v) => modelVersionJson(v, aliasesOf(v.version))),
    tags: m.tags.map((t) => ({ key: t.key, value: t.value })),
    aliases: aliases.map((a) => ({ alias: a.alias, version: String(a.version) })),
  };
}

export function versionJson(read: ReadModels, v: ModelVersionView) {
  return modelVersionJson(v, read.models.aliasesOfVersion(v.model, v.version));
}
