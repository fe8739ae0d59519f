import type { SqliteDatabase } from '@chronicle/event-store';

export interface ReproductionLinkView {
  runId: string;
  originalRunId: string;
  position: number;
  recordedAt: number;
}

const COLUMNS = 'run_id AS runId, original_run_id AS originalRunId, position, recorded_at AS recordedAt';

export function reproductionQueries(db: SqliteDatabase) {
  // `at` bounds the position; MAX_SAFE_INTEGER reads the present.
  const of = db.prepare<[string, number], ReproductionLinkView>(
    `SELECT ${COLUMNS} FROM rm_run_reproductions WHERE original_run_id = ? AND position <= ? ORDER BY position`,
  );
  const original = db.prepare<[string, number], ReproductionLinkView>(`SELECT ${COLUMNS} FROM rm_run_reproductions WHERE run_id = ? AND position <= ?`);
  return {
    /** The runs made to reproduce `runId`, oldest first; with `atPosition`, those recorded up to it. */
    reproductionsOf: (runId: string, atPosition = Number.MAX_SAFE_INTEGER): ReproductionLinkView[] => of.all(runId, atPosition),
    /** The run `runId` reproduces, or null for an ordinary run. */
    originalOf: (runId: string, atPosition = Number.MAX_SAFE_INTEGER): ReproductionLinkView | null => original.get(runId, atPosition) ?? null,
  };
}
