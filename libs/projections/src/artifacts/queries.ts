import type { SqliteDatabase } from '@chronicle/event-store';

export interface ArtifactView {
  runId: string;
  path: string;
  sha256: string;
  size: number;
  contentType: string;
  loggedAt: number;
  loggedBy: string;
}

const COLUMNS = 'run_id AS runId, path, sha256, size, content_type AS contentType, logged_at AS loggedAt, logged_by AS loggedBy';

export function artifactQueries(db: SqliteDatabase) {
  const one = db.prepare<[string, string], ArtifactView>(`SELECT ${COLUMNS} FROM rm_run_artifacts WHERE run_id = ? AND path = ?`);
  const ofRun = db.prepare<[string], ArtifactView>(`SELECT ${COLUMNS} FROM rm_run_artifacts WHERE run_id = ? ORDER BY path`);
  return {
    get: (runId: string, path: string) => one.get(runId, path) ?? null,
    list: (runId: string) => ofRun.all(runId),
  };
}
