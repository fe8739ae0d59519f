import type { RecordedEvent, RunArtifactLogged } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';

export const artifactsProjection: ProjectionDefinition = {
  name: 'artifacts.v1',
  tables: ['rm_run_artifacts'],
  open(db) {
    db.exec(`CREATE TABLE IF NOT EXISTS rm_run_artifacts (
      run_id TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
      content_type TEXT NOT NULL, logged_at INTEGER NOT NULL, logged_by TEXT NOT NULL,
      PRIMARY KEY (run_id, path)
    ) WITHOUT ROWID`);
    const insert = db.prepare(
      'INSERT OR REPLACE INTO rm_run_artifacts (run_id, path, sha256, size, content_type, logged_at, logged_by) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    return {
      apply(e: RecordedEvent) {
        if (e.type !== 'RunArtifactLogged') return;
        const d = (e as unknown as RunArtifactLogged).data;
        insert.run(d.runId, d.path, d.sha256, d.size, d.contentType, e.recordedAt, e.actor);
      },
    };
  },
};
