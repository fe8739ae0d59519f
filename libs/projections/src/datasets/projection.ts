import type { DatasetEvent, RecordedEvent } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';

const DATASET_EVENTS = new Set<string>(['DatasetCreated', 'DatasetVersionCommitted', 'DatasetVersionTagged', 'DatasetVersionDeprecated']);

/** Datasets, their versions (one row each, never rewritten except to mark deprecation) and tags. */
export const datasetsProjection: ProjectionDefinition = {
  name: 'datasets.v1',
  tables: ['rm_datasets', 'rm_dataset_versions', 'rm_dataset_tags'],
  open(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS rm_datasets (
        name TEXT PRIMARY KEY, description TEXT NOT NULL, latest_version INTEGER NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, created_by TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_dataset_versions (
        name TEXT NOT NULL, version INTEGER NOT NULL, version_id TEXT NOT NULL UNIQUE, parent_version INTEGER,
        manifest_sha256 TEXT NOT NULL, file_count INTEGER NOT NULL, total_bytes INTEGER NOT NULL, tabular TEXT NOT NULL,
        message TEXT NOT NULL, author TEXT NOT NULL, deprecated INTEGER NOT NULL, deprecation_reason TEXT,
        created_at INTEGER NOT NULL, position INTEGER NOT NULL,
        PRIMARY KEY (name, version)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_dataset_tags (
        name TEXT NOT NULL, tag TEXT NOT NULL, version INTEGER NOT NULL, tagged_at INTEGER NOT NULL, tagged_by TEXT NOT NULL,
        PRIMARY KEY (name, tag)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS rm_dataset_tags_version ON rm_dataset_tags (name, version);`);
    const insertDataset = db.prepare(
      'INSERT INTO rm_datasets (name, description, latest_version, created_at, updated_at, created_by) VALUES (?, ?, 0, ?, ?, ?)',
    );
    const bump = db.prepare('UPDATE rm_datasets SET latest_version = max(latest_version, ?), updated_at = ? WHERE name = ?');
    const touch = db.prepare('UPDATE rm_datasets SET updated_at = ? WHERE name = ?');
    const insertVersion = db.prepare(
      `INSERT INTO rm_dataset_versions (name, version, version_id, parent_version, manifest_sha256, file_count, total_bytes, tabular,
         message, author, deprecated, deprecation_reason, created_at, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?)`,
    );
    const deprecate = db.prepare('UPDATE rm_dataset_versions SET deprecated = 1, deprecation_reason = ? WHERE name = ? AND version = ?');
    const tag = db.prepare('INSERT OR REPLACE INTO rm_dataset_tags (name, tag, version, tagged_at, tagged_by) VALUES (?, ?, ?, ?, ?)');
    return {
      apply(e: RecordedEvent) {
        if (!DATASET_EVENTS.has(e.type)) return;
        const ev = e as unknown as DatasetEvent;
        switch (ev.type) {
          case 'DatasetCreated':
            insertDataset.run(ev.data.name, ev.data.description, e.recordedAt, e.recordedAt, e.actor);
            return;
          case 'DatasetVersionCommitted': {
            const d = ev.data;
            insertVersion.run(d.name, d.version, d.versionId, d.parentVersion, d.manifestSha256, d.fileCount, d.totalBytes,
              JSON.stringify(d.tabular), d.message, d.author, e.recordedAt, e.position);
            bump.run(d.version, e.recordedAt, d.name);
            return;
          }
          case 'DatasetVersionTagged':
            tag.run(ev.data.name, ev.data.tag, ev.data.version, e.recordedAt, e.actor);
            touch.run(e.recordedAt, ev.data.name);
            return;
          case 'DatasetVersionDeprecated':
            deprecate.run(ev.data.reason, ev.data.name, ev.data.version);
            touch.run(e.recordedAt, ev.data.name);
            return;
        }
      },
    };
  },
};
