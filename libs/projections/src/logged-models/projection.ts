import type { KeyValue, LoggedModelEvent, RecordedEvent } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';

const EVENTS = new Set<string>([
  'LoggedModelCreated',
  'LoggedModelFinalized',
  'LoggedModelTagsSet',
  'LoggedModelTagDeleted',
  'LoggedModelParamsLogged',
  'LoggedModelOutputLogged',
  'LoggedModelDeleted',
]);

function merge(json: string, set: readonly KeyValue[], remove: string | null): string {
  const map = new Map((JSON.parse(json) as KeyValue[]).map((t) => [t.key, t.value]));
  for (const t of set) map.set(t.key, t.value);
  if (remove !== null) map.delete(remove);
  return JSON.stringify([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ key, value })));
}

/** MLflow 3 logged models, with their params, tags and the runs that output them. */
export const loggedModelsProjection: ProjectionDefinition = {
  name: 'logged-models.v1',
  tables: ['rm_logged_models', 'rm_logged_model_outputs'],
  open(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS rm_logged_models (
        model_id TEXT PRIMARY KEY, experiment_id TEXT NOT NULL, name TEXT NOT NULL, model_type TEXT NOT NULL,
        source_run_id TEXT, files_run_id TEXT NOT NULL, artifact_path TEXT NOT NULL, status TEXT NOT NULL,
        deleted INTEGER NOT NULL, params TEXT NOT NULL, tags TEXT NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, created_by TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS rm_logged_models_experiment ON rm_logged_models (experiment_id, created_at);
      CREATE TABLE IF NOT EXISTS rm_logged_model_outputs (
        run_id TEXT NOT NULL, model_id TEXT NOT NULL, step INTEGER NOT NULL, PRIMARY KEY (run_id, model_id, step)
      ) WITHOUT ROWID;`);
    const insert = db.prepare(
      `INSERT INTO rm_logged_models (model_id, experiment_id, name, model_type, source_run_id, files_run_id, artifact_path, status, deleted,
         params, tags, created_at, updated_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, 'PENDING', 0, ?, ?, ?, ?, ?)`,
    );
    const row = db.prepare<[string], { params: string; tags: string }>('SELECT params, tags FROM rm_logged_models WHERE model_id = ?');
    const setStatus = db.prepare('UPDATE rm_logged_models SET status = ?, updated_at = ? WHERE model_id = ?');
    const setTags = db.prepare('UPDATE rm_logged_models SET tags = ?, updated_at = ? WHERE model_id = ?');
    const setParams = db.prepare('UPDATE rm_logged_models SET params = ?, updated_at = ? WHERE model_id = ?');
    const markDeleted = db.prepare('UPDATE rm_logged_models SET deleted = 1, updated_at = ? WHERE model_id = ?');
    const output = db.prepare('INSERT OR IGNORE INTO rm_logged_model_outputs (run_id, model_id, step) VALUES (?, ?, ?)');
    return {
      apply(e: RecordedEvent) {
        if (!EVENTS.has(e.type)) return;
        const ev = e as unknown as LoggedModelEvent;
        const at = e.recordedAt;
        switch (ev.type) {
          case 'LoggedModelCreated': {
            const d = ev.data;
            insert.run(d.modelId, d.experimentId, d.name, d.modelType, d.sourceRunId, d.filesRunId, d.artifactPath, merge('[]', d.params, null), merge('[]', d.tags, null), at, at, e.actor);
            return;
          }
          case 'LoggedModelFinalized':
            setStatus.run(ev.data.status, at, ev.data.modelId);
            return;
          case 'LoggedModelTagsSet':
          case 'LoggedModelTagDeleted': {
            const r = row.get(ev.data.modelId);
            if (r) setTags.run(merge(r.tags, ev.type === 'LoggedModelTagsSet' ? ev.data.tags : [], ev.type === 'LoggedModelTagDeleted' ? ev.data.key : null), at, ev.data.modelId);
            return;
          }
          case 'LoggedModelParamsLogged': {
            const r = row.get(ev.data.modelId);
            if (r) setParams.run(merge(r.params, ev.data.params, null), at, ev.data.modelId);
            return;
          }
          case 'LoggedModelOutputLogged':
            output.run(ev.data.runId, ev.data.modelId, ev.data.step);
            return;
          case 'LoggedModelDeleted':
            markDeleted.run(at, ev.data.modelId);
            return;
        }
      },
    };
  },
};
