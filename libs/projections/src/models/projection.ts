import { isModelEvent, type KeyValue, type ModelEvent, type RecordedEvent } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';

/** Tags as a list in key order; setting a key replaces its value. */
function withTag(tagsJson: string, key: string, value: string | null): string {
  const tags = (JSON.parse(tagsJson) as KeyValue[]).filter((t) => t.key !== key);
  if (value !== null) tags.push({ key, value });
  return JSON.stringify(tags.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));
}

/**
 * Models, versions, aliases, and when each alias and stage was held by which version: the
 * history tables answer "what did champion point at on March 3rd, and who moved it there".
 */
export const modelsProjection: ProjectionDefinition = {
  // v2: version source, tags and update time, model tags, deletion and renaming (the MLflow registry API).
  name: 'models.v2',
  tables: ['rm_models', 'rm_model_versions', 'rm_model_aliases', 'rm_model_alias_history', 'rm_model_stage_history'],
  open(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS rm_models (
        name TEXT PRIMARY KEY, description TEXT NOT NULL, tags TEXT NOT NULL, card TEXT NOT NULL,
        latest_version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, created_by TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_model_versions (
        name TEXT NOT NULL, version INTEGER NOT NULL, run_id TEXT NOT NULL, artifact_path TEXT NOT NULL,
        sha256 TEXT NOT NULL, size INTEGER NOT NULL, format TEXT, signature TEXT, description TEXT NOT NULL,
        stage TEXT NOT NULL, deleted INTEGER NOT NULL, created_at INTEGER NOT NULL, created_by TEXT NOT NULL,
        source TEXT, tags TEXT NOT NULL DEFAULT '[]', logged_model_id TEXT, updated_at INTEGER NOT NULL,
        PRIMARY KEY (name, version)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_model_aliases (
        name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL, set_at INTEGER NOT NULL, set_by TEXT NOT NULL,
        PRIMARY KEY (name, alias)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_model_alias_history (
        name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL, from_position INTEGER NOT NULL,
        from_time INTEGER NOT NULL, to_time INTEGER, set_by TEXT NOT NULL,
        PRIMARY KEY (name, alias, from_position)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_model_stage_history (
        name TEXT NOT NULL, version INTEGER NOT NULL, stage TEXT NOT NULL, from_position INTEGER NOT NULL,
        from_time INTEGER NOT NULL, to_time INTEGER, set_by TEXT NOT NULL,
        PRIMARY KEY (name, version, from_position)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS rm_model_stage_history_stage ON rm_model_stage_history (name, stage, from_time);
      CREATE INDEX IF NOT EXISTS rm_model_versions_run ON rm_model_versions (run_id);`);
    const insertModel = db.prepare(
      'INSERT INTO rm_models (name, description, tags, card, latest_version, created_at, updated_at, created_by) VALUES (?, ?, ?, ?, 0, ?, ?, ?)',
    );
    const touch = db.prepare('UPDATE rm_models SET updated_at = ? WHERE name = ?');
    const bumpLatest = db.prepare('UPDATE rm_models SET latest_version = max(latest_version, ?) WHERE name = ?');
    const insertVersion = db.prepare(
      `INSERT INTO rm_model_versions (name, version, run_id, artifact_path, sha256, size, format, signature, description, stage, deleted, created_at, created_by,
         source, tags, logged_model_id, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'None', 0, ?, ?, ?, ?, ?, ?)`,
    );
    const touchVersion = db.prepare('UPDATE rm_model_versions SET updated_at = ? WHERE name = ? AND version = ?');
    const setDescription = db.prepare('UPDATE rm_models SET description = ? WHERE name = ?');
    const modelTags = db.prepare<[string], { tags: string }>('SELECT tags FROM rm_models WHERE name = ?');
    const setModelTags = db.prepare('UPDATE rm_models SET tags = ? WHERE name = ?');
    const setVersionDescription = db.prepare('UPDATE rm_model_versions SET description = ? WHERE name = ? AND version = ?');
    const versionTags = db.prepare<[string, number], { tags: string }>('SELECT tags FROM rm_model_versions WHERE name = ? AND version = ?');
    const setVersionTags = db.prepare('UPDATE rm_model_versions SET tags = ? WHERE name = ? AND version = ?');
    const dropModel = [
      db.prepare('DELETE FROM rm_models WHERE name = ?'),
      db.prepare('DELETE FROM rm_model_versions WHERE name = ?'),
      db.prepare('DELETE FROM rm_model_aliases WHERE name = ?'),
    ];
    // A deleted model's periods end when it went; they stay, as history of that name.
    const closeAllAliases = db.prepare('UPDATE rm_model_alias_history SET to_time = ? WHERE name = ? AND to_time IS NULL');
    const closeAllStages = db.prepare('UPDATE rm_model_stage_history SET to_time = ? WHERE name = ? AND to_time IS NULL');
    const rename = ['rm_models', 'rm_model_versions', 'rm_model_aliases', 'rm_model_alias_history', 'rm_model_stage_history'].map((t) =>
      db.prepare(`UPDATE ${t} SET name = ? WHERE name = ?`),
    );
    const setStage = db.prepare('UPDATE rm_model_versions SET stage = ? WHERE name = ? AND version = ?');
    const markDeleted = db.prepare('UPDATE rm_model_versions SET deleted = 1 WHERE name = ? AND version = ?');
    const upsertAlias = db.prepare(
      'INSERT INTO rm_model_aliases (name, alias, version, set_at, set_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET version = excluded.version, set_at = excluded.set_at, set_by = excluded.set_by',
    );
    const deleteAlias = db.prepare('DELETE FROM rm_model_aliases WHERE name = ? AND alias = ?');
    const closeAlias = db.prepare('UPDATE rm_model_alias_history SET to_time = ? WHERE name = ? AND alias = ? AND to_time IS NULL');
    const openAlias = db.prepare(
      'INSERT INTO rm_model_alias_history (name, alias, version, from_position, from_time, to_time, set_by) VALUES (?, ?, ?, ?, ?, NULL, ?)',
    );
    const closeStage = db.prepare('UPDATE rm_model_stage_history SET to_time = ? WHERE name = ? AND version = ? AND to_time IS NULL');
    const openStage = db.prepare(
      'INSERT INTO rm_model_stage_history (name, version, stage, from_position, from_time, to_time, set_by) VALUES (?, ?, ?, ?, ?, NULL, ?)',
    );
    return {
      apply(e: RecordedEvent) {
        if (!isModelEvent(e)) return;
        const ev = e as RecordedEvent & ModelEvent;
        const at = e.recordedAt;
        switch (ev.type) {
          case 'ModelRegistered': {
            const d = ev.data;
            insertModel.run(d.name, d.description, JSON.stringify(d.tags), JSON.stringify(d.card), at, at, e.actor);
            return;
          }
          case 'ModelVersionCreated': {
            const d = ev.data;
            insertVersion.run(
              d.name,
              d.version,
              d.runId,
              d.artifactPath,
              d.sha256,
              d.size,
              d.format,
              d.signature === null ? null : JSON.stringify(d.signature),
              d.description,
              at,
              e.actor,
              d.source ?? null,
              JSON.stringify(d.tags ?? []),
              d.loggedModelId ?? null,
              at,
            );
            bumpLatest.run(d.version, d.name);
            openStage.run(d.name, d.version, 'None', e.position, at, e.actor);
            break;
          }
          case 'ModelAliasSet': {
            const d = ev.data;
            upsertAlias.run(d.name, d.alias, d.version, at, e.actor);
            closeAlias.run(at, d.name, d.alias);
            openAlias.run(d.name, d.alias, d.version, e.position, at, e.actor);
            break;
          }
          case 'ModelAliasRemoved':
            deleteAlias.run(ev.data.name, ev.data.alias);
            closeAlias.run(at, ev.data.name, ev.data.alias);
            break;
          case 'ModelVersionStageChanged': {
            const d = ev.data;
            setStage.run(d.toStage, d.name, d.version);
            touchVersion.run(at, d.name, d.version);
            closeStage.run(at, d.name, d.version);
            openStage.run(d.name, d.version, d.toStage, e.position, at, e.actor);
            break;
          }
          case 'ModelVersionDeleted':
            markDeleted.run(ev.data.name, ev.data.version);
            closeStage.run(at, ev.data.name, ev.data.version);
            break;
          case 'ModelDescriptionUpdated':
            setDescription.run(ev.data.description, ev.data.name);
            break;
          case 'ModelTagSet':
          case 'ModelTagDeleted': {
            const row = modelTags.get(ev.data.name);
            if (row) setModelTags.run(withTag(row.tags, ev.data.key, ev.type === 'ModelTagSet' ? ev.data.value : null), ev.data.name);
            break;
          }
          case 'ModelVersionDescriptionUpdated':
            setVersionDescription.run(ev.data.description, ev.data.name, ev.data.version);
            touchVersion.run(at, ev.data.name, ev.data.version);
            break;
          case 'ModelVersionTagSet':
          case 'ModelVersionTagDeleted': {
            const d = ev.data;
            const row = versionTags.get(d.name, d.version);
            if (row) setVersionTags.run(withTag(row.tags, d.key, ev.type === 'ModelVersionTagSet' ? ev.data.value : null), d.name, d.version);
            touchVersion.run(at, d.name, d.version);
            break;
          }
          case 'ModelDeleted':
            closeAllAliases.run(at, ev.data.name);
            closeAllStages.run(at, ev.data.name);
            for (const s of dropModel) s.run(ev.data.name);
            return;
          case 'ModelRenamed':
            for (const s of rename) s.run(ev.data.newName, ev.data.name);
            touch.run(at, ev.data.newName);
            return;
          case 'ModelRenamedFrom':
            return;
        }
        touch.run(at, ev.data.name);
      },
    };
  },
};
