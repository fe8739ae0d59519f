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
  /** Where the registering client said the files are (MLflow's `source`); null for versions registered natively. */
  source: string | null;
  tags: KeyValue[];
  loggedModelId: string | null;
  updatedAt: number;
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
  source: string | null;
  tags: string;
  logged_model_id: string | null;
  updated_at: number;
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
  source: r.source,
  tags: JSON.parse(r.tags) as KeyValue[],
  loggedModelId: r.logged_model_id,
  updatedAt: r.updated_at,
});

/** One condition of a registry search; all conditions of a search must hold. */
export type RegistryCondition =
  | { field: 'name' | 'run_id' | 'source' | 'logged_model_id'; op: TextOp; value: string }
  | { field: 'run_id' | 'name'; op: 'IN' | 'NOT IN'; values: string[] }
  | { field: 'version'; op: NumberOp; value: number }
  | { field: 'tag'; key: string; op: TextOp; value: string }
  | { field: 'tag'; key: string; op: 'EXISTS' | 'NOT EXISTS' };
export type TextOp = '=' | '!=' | 'LIKE' | 'ILIKE';
export type NumberOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export interface RegistryOrder {
  field: 'name' | 'version' | 'created_at' | 'updated_at';
  descending: boolean;
}
export interface RegistrySearch {
  conditions: readonly RegistryCondition[];
  orderBy: readonly RegistryOrder[];
  limit: number;
  offset: number;
}

const TEXT_SQL: Record<TextOp, (col: string) => string> = {
  '=': (c) => `${c} = ?`,
  '!=': (c) => `${c} != ?`,
  // case_sensitive_like is on (see createReadModels): LIKE is MLflow's case-sensitive LIKE.
  LIKE: (c) => `${c} LIKE ?`,
  ILIKE: (c) => `lower(${c}) LIKE lower(?)`,
};

/** Compiles conditions on a table with `name`, `tags` (and for versions `run_id`, `version`, ...) to SQL. */
function compileSearch(table: 'rm_models' | 'rm_model_versions', search: RegistrySearch, extra: string[]): { where: string; order: string; params: unknown[] } {
  const clauses = [...extra];
  const params: unknown[] = [];
  const tagValue = `(SELECT json_extract(t.value, '$.value') FROM json_each(${table}.tags) t WHERE json_extract(t.value, '$.key') = ?)`;
  for (const c of search.conditions) {
    if (c.field === 'tag') {
      // A model without the tag is "not equal" to any value (MLflow 3 filters out prompts with `tag.x != 'true'`).
      if ('value' in c) clauses.push(c.op === '!=' ? `${tagValue} IS NOT ?` : TEXT_SQL[c.op](tagValue)), params.push(c.key, c.value);
      else clauses.push(`${tagValue} IS ${c.op === 'EXISTS' ? 'NOT ' : ''}NULL`), params.push(c.key);
    } else if ('values' in c) {
      clauses.push(`${c.field} ${c.op} (${c.values.map(() => '?').join(', ') || 'NULL'})`);
      params.push(...c.values);
    } else if (c.field === 'version') {
      clauses.push(`version ${c.op} ?`);
      params.push(c.value);
    } else {
      if (table === 'rm_models' && c.field !== 'name') throw new Error(`models have no field ${c.field}`);
      clauses.push(TEXT_SQL[c.op](c.field));
      params.push(c.value);
    }
  }
  const order = search.orderBy.map((o) => `${o.field} ${o.descending ? 'DESC' : 'ASC'}`);
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', order: order.join(', '), params };
}

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

  const latestPerStage = db.prepare<{ name: string }, VersionRow>(
    `SELECT v.* FROM rm_model_versions v
     JOIN (SELECT stage, max(version) AS version FROM rm_model_versions WHERE name = @name AND deleted = 0 GROUP BY stage) m
       ON v.stage = m.stage AND v.version = m.version
     WHERE v.name = @name
     ORDER BY CASE v.stage WHEN 'None' THEN 0 WHEN 'Staging' THEN 1 WHEN 'Production' THEN 2 ELSE 3 END`,
  );

  const getVersion = (name: string, v: number) => {
    const r = version.get(name, v);
    return r ? toVersion(r) : null;
  };

  return {
    /** Models matching every condition, in the given order (then by name), one page. */
    search(search: RegistrySearch): ModelView[] {
      const { where, order, params } = compileSearch('rm_models', search, []);
      const sql = `SELECT * FROM rm_models ${where} ORDER BY ${order ? `${order}, ` : ''}name LIMIT ? OFFSET ?`;
      return db.prepare<unknown[], ModelRow>(sql).all(...params, search.limit, search.offset).map(toModel);
    },
    /** Live versions of any model matching every condition, one page. */
    searchVersions(search: RegistrySearch): ModelVersionView[] {
      const { where, order, params } = compileSearch('rm_model_versions', search, ['deleted = 0']);
      const sql = `SELECT * FROM rm_model_versions ${where} ORDER BY ${order ? `${order}, ` : ''}name, version DESC LIMIT ? OFFSET ?`;
      return db.prepare<unknown[], VersionRow>(sql).all(...params, search.limit, search.offset).map(toVersion);
    },
    /** The newest live version in each stage (MLflow's `latest_versions`), in stage order. */
    latestPerStage(name: string): ModelVersionView[] {
      return latestPerStage.all({ name }).map(toVersion);
    },
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
