import { NotFound, parseModelRef, type KeyValue, type ModelCard, type ModelStage } from '@chronicle/domain';
import type { SqliteDatabase } from '@chronicle/event-store';

export interface ModelView {
  name: string;
  description: string;
  tags: KeyValue[];
  card: ModelCard;
  latestVersion: number;
  createdAt: number;
  updatedAt: number;
  createdBy: string;
}

export interface ModelVersionView {
  model: string;
  version: number;
  runId: string;
  artifactPath: string;
  sha256: string;
  size: number;
  format: string | null;
  signature: Record<string, unknown> | null;
  description: string;
  stage: ModelStage;
  deleted: boolean;
  createdAt: number;
  createdBy: string;
}

export interface ModelAliasView {
  model: string;
  alias: string;
  version: number;
  setAt: number;
  setBy: string;
}

/** One period during which a version held an alias (or sat in a stage); `toTime` null: it still does. */
export interface PointerPeriodView {
  model: string;
  alias: string | null;
  stage: ModelStage | null;
  version: number;
  fromPosition: number;
  fromTime: number;
  toTime: number | null;
  setBy: string;
}

interface ModelRow {
  name: string;
  description: string;
  tags: string;
  card: string;
  latest_version: number;
  created_at: number;
  updated_at: number;
  created_by: string;
}
interface VersionRow {
  name: string;
  version: number;
  run_id: string;
  artifact_path: string;
  sha256: string;
  size: number;
  format: string | null;
  signature: string | null;
  description: string;
  stage: ModelStage;
  deleted: number;
  created_at: number;
  created_by: string;
}

const toModel = (r: ModelRow): ModelView => ({
  name: r.name,
  description: r.description,
  tags: JSON.parse(r.tags) as KeyValue[],
  card: JSON.parse(r.card) as ModelCard,
  latestVersion: r.latest_version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  createdBy: r.created_by,
});

const toVersion = (r: VersionRow): ModelVersionView => ({
  model: r.name,
  version: r.version,
  runId: r.run_id,
  artifactPath: r.artifact_path,
  sha256: r.sha256,
  size: r.size,
  format: r.format,
  signature: r.signature === null ? null : (JSON.parse(r.signature) as Record<string, unknown>),
  description: r.description,
  stage: r.stage,
  deleted: r.deleted === 1,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

const PERIOD = 'name AS model, version, from_position AS fromPosition, from_time AS fromTime, to_time AS toTime, set_by AS setBy';
// A period covers [fromTime, toTime): at the instant of a change the new holder answers.
const ACTIVE_AT = 'from_time <= @at AND (to_time IS NULL OR to_time > @at)';

export function modelQueries(db: SqliteDatabase) {
  const all = db.prepare<[string], ModelRow>(`SELECT * FROM rm_models WHERE name LIKE ? ESCAPE '\\' ORDER BY name`);
  const one = db.prepare<[string], ModelRow>('SELECT * FROM rm_models WHERE name = ?');
  const versions = db.prepare<[string, number], VersionRow>(
    'SELECT * FROM rm_model_versions WHERE name = ? AND (? = 1 OR deleted = 0) ORDER BY version DESC',
  );
  const version = db.prepare<[string, number], VersionRow>('SELECT * FROM rm_model_versions WHERE name = ? AND version = ?');
  const latestInStage = db.prepare<[string, string], VersionRow>(
    'SELECT * FROM rm_model_versions WHERE name = ? AND stage = ? AND deleted = 0 ORDER BY version DESC LIMIT 1',
  );
  const aliases = db.prepare<[string], ModelAliasView>(
    'SELECT name AS model, alias, version, set_at AS setAt, set_by AS setBy FROM rm_model_aliases WHERE name = ? ORDER BY alias',
  );
  const alias = db.prepare<[string, string], ModelAliasView>(
    'SELECT name AS model, alias, version, set_at AS setAt, set_by AS setBy FROM rm_model_aliases WHERE name = ? AND alias = ?',
  );
  const aliasHistory = db.prepare<{ name: string; alias: string }, Omit<PointerPeriodView, 'alias' | 'stage'>>(
    `SELECT ${PERIOD} FROM rm_model_alias_history WHERE name = @name AND alias = @alias ORDER BY from_position`,
  );
  const aliasAt = db.prepare<{ name: string; alias: string; at: number }, Omit<PointerPeriodView, 'alias' | 'stage'>>(
    `SELECT ${PERIOD} FROM rm_model_alias_history WHERE name = @name AND alias = @alias AND ${ACTIVE_AT} ORDER BY from_position`,
  );
  const stageHistory = db.prepare<{ name: string; stage: string }, Omit<PointerPeriodView, 'alias' | 'stage'>>(
    `SELECT ${PERIOD} FROM rm_model_stage_history WHERE name = @name AND stage = @stage ORDER BY from_position`,
  );
  const stageAt = db.prepare<{ name: string; stage: string; at: number }, Omit<PointerPeriodView, 'alias' | 'stage'>>(
    `SELECT ${PERIOD} FROM rm_model_stage_history WHERE name = @name AND stage = @stage AND ${ACTIVE_AT} ORDER BY version`,
  );

  const getVersion = (name: string, v: number) => {
    const r = version.get(name, v);
    return r ? toVersion(r) : null;
  };

  return {
    list: (opts: { nameContains?: string } = {}) =>
      all.all(`%${(opts.nameContains ?? '').replace(/[\\%_]/g, (c) => `\\${c}`)}%`).map(toModel),
    get: (name: string) => {
      const r = one.get(name);
      return r ? toModel(r) : null;
    },
    versions: (name: string, opts: { includeDeleted?: boolean } = {}) => versions.all(name, opts.includeDeleted ? 1 : 0).map(toVersion),
    version: getVersion,
    aliases: (name: string) => aliases.all(name),
    aliasesOfVersion: (name: string, v: number) => aliases.all(name).filter((a) => a.version === v).map((a) => a.alias),
    alias: (name: string, a: string) => alias.get(name, a) ?? null,
    /** Every period `alias` was held, oldest first; with `at`, only the one covering that instant. */
    aliasHistory: (name: string, a: string, at?: number): PointerPeriodView[] =>
      (at === undefined ? aliasHistory.all({ name, alias: a }) : aliasAt.all({ name, alias: a, at })).map((p) => ({ ...p, alias: a, stage: null })),
    /** Every period a version sat in `stage`; with `at`, those covering that instant. */
    stageHistory: (name: string, stage: ModelStage, at?: number): PointerPeriodView[] =>
      (at === undefined ? stageHistory.all({ name, stage }) : stageAt.all({ name, stage, at })).map((p) => ({ ...p, alias: null, stage })),
    /** The version a reference names now; NotFound when it names none. */
    resolve(ref: string): ModelVersionView {
      const parsed = parseModelRef(ref);
      if (!one.get(parsed.name)) throw new NotFound(`model ${parsed.name} does not exist`, { model: parsed.name });
      let found: ModelVersionView | null = null;
      if (parsed.kind === 'alias') {
        const held = alias.get(parsed.name, parsed.alias);
        found = held ? getVersion(parsed.name, held.version) : null;
      } else if (parsed.kind === 'stage') {
        const r = latestInStage.get(parsed.name, parsed.stage);
        found = r ? toVersion(r) : null;
      } else found = getVersion(parsed.name, parsed.version);
      if (!found || found.deleted) throw new NotFound(`${ref} names no model version`, { ref });
      return found;
    },
  };
}
