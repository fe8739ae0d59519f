import type { ExperimentEvent, RecordedEvent } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';

export const experimentsProjection: ProjectionDefinition = {
  name: 'experiments.v1',
  tables: ['rm_experiments', 'rm_experiment_tags'],
  open(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS rm_experiments (
        experiment_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        lifecycle TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        position INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS rm_experiments_name ON rm_experiments (name);
      CREATE TABLE IF NOT EXISTS rm_experiment_tags (
        experiment_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (experiment_id, key)
      ) WITHOUT ROWID;`);
    const insert = db.prepare(
      'INSERT INTO rm_experiments (experiment_id, name, description, lifecycle, created_at, updated_at, created_by, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const touch = db.prepare('UPDATE rm_experiments SET updated_at = ?, position = ? WHERE experiment_id = ?');
    const setLifecycle = db.prepare('UPDATE rm_experiments SET lifecycle = ? WHERE experiment_id = ?');
    const setDescription = db.prepare('UPDATE rm_experiments SET description = ? WHERE experiment_id = ?');
    const setName = db.prepare('UPDATE rm_experiments SET name = ? WHERE experiment_id = ?');
    const setTag = db.prepare(
      'INSERT INTO rm_experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
    );
    return {
      apply(e: RecordedEvent) {
        const ev = e as unknown as ExperimentEvent;
        switch (ev.type) {
          case 'ExperimentCreated': {
            const d = ev.data;
            insert.run(d.experimentId, d.name, d.description, 'active', d.createdAt, e.recordedAt, e.actor, e.position);
            for (const t of d.tags) setTag.run(d.experimentId, t.key, t.value);
            return;
          }
          case 'ExperimentDeleted':
            setLifecycle.run('deleted', ev.data.experimentId);
            break;
          case 'ExperimentRestored':
            setLifecycle.run('active', ev.data.experimentId);
            break;
          case 'ExperimentTagsSet':
            for (const t of ev.data.tags) setTag.run(ev.data.experimentId, t.key, t.value);
            break;
          case 'ExperimentDescribed':
            setDescription.run(ev.data.description, ev.data.experimentId);
            break;
          case 'ExperimentRenamed':
            setName.run(ev.data.name, ev.data.experimentId);
            break;
          default:
            return;
        }
        touch.run(e.recordedAt, e.position, ev.data.experimentId);
      },
    };
  },
};
