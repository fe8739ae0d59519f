import type { RecordedEvent, RunDatasetsLogged } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';

/** Dataset references and logged models runs declared through MLflow's log-inputs, in the order they were logged. */
export const runDatasetsProjection: ProjectionDefinition = {
  name: 'run-datasets.v1',
  tables: ['rm_run_datasets', 'rm_run_model_inputs'],
  open(db) {
    db.exec(`CREATE TABLE IF NOT EXISTS rm_run_datasets (
      run_id TEXT NOT NULL, ordinal INTEGER NOT NULL, name TEXT NOT NULL, digest TEXT NOT NULL,
      source_type TEXT NOT NULL, source TEXT NOT NULL, schema TEXT NOT NULL, profile TEXT NOT NULL,
      tags TEXT NOT NULL, logged_at INTEGER NOT NULL,
      PRIMARY KEY (run_id, ordinal)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS rm_run_model_inputs (
      run_id TEXT NOT NULL, model_id TEXT NOT NULL, logged_at INTEGER NOT NULL,
      PRIMARY KEY (run_id, model_id)
    ) WITHOUT ROWID`);
    const insertModel = db.prepare('INSERT OR IGNORE INTO rm_run_model_inputs (run_id, model_id, logged_at) VALUES (?, ?, ?)');
    const next = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM rm_run_datasets WHERE run_id = ?');
    const insert = db.prepare(
      'INSERT INTO rm_run_datasets (run_id, ordinal, name, digest, source_type, source, schema, profile, tags, logged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    return {
      apply(e: RecordedEvent) {
        if (e.type !== 'RunDatasetsLogged') return;
        const d = (e as unknown as RunDatasetsLogged).data;
        let ordinal = next.get(d.runId)?.n ?? 0;
        for (const ds of d.datasets)
          insert.run(d.runId, ordinal++, ds.name, ds.digest, ds.sourceType, ds.source, ds.schema, ds.profile, JSON.stringify(ds.tags), e.recordedAt);
        for (const id of d.models ?? []) insertModel.run(d.runId, id, e.recordedAt);
      },
    };
  },
};
