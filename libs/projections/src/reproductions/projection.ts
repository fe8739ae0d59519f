import type { RecordedEvent, RunStarted } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';

/**
 * Which run reproduces which, indexed both ways. The link is recorded once, in the
 * reproduction's RunStarted; the original's side is derived here. Rows are only ever
 * inserted and carry their position, so a read as of a position filters on it.
 */
export const reproductionsProjection: ProjectionDefinition = {
  name: 'reproductions.v1',
  tables: ['rm_run_reproductions'],
  open(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS rm_run_reproductions (
        run_id TEXT PRIMARY KEY, original_run_id TEXT NOT NULL, position INTEGER NOT NULL, recorded_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS rm_run_reproductions_original ON rm_run_reproductions (original_run_id, position);`);
    const insert = db.prepare('INSERT OR IGNORE INTO rm_run_reproductions (run_id, original_run_id, position, recorded_at) VALUES (?, ?, ?, ?)');
    return {
      apply(e: RecordedEvent) {
        if (e.type !== 'RunStarted') return;
        const d = (e as unknown as RunStarted).data;
        if (typeof d.reproductionOf === 'string') insert.run(d.runId, d.reproductionOf, e.position, e.recordedAt);
      },
    };
  },
};
