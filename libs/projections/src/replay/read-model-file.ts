import { renameSync, rmSync } from 'node:fs';
import { openSqliteDatabase, type SqliteDatabase } from '@chronicle/event-store';

/** The files SQLite keeps beside a database file while it is open or after a crash. */
export const SIDECAR_SUFFIXES = ['-wal', '-shm', '-journal'] as const;

/** The read models' own SQLite file in a data directory, beside the log's. */
export const READ_MODELS_FILE = 'read-models.db';

/**
 * The page size of a new read-models file. Metric chunks are blobs of up to 24 KiB, a chain of
 * overflow pages: twice as many at SQLite's default 4 KiB, and a rebuild writes them all.
 */
export const READ_MODELS_PAGE_SIZE = 8192;

/** Opens (or creates) a read-models file. */
export function openReadModelsDatabase(path: string): SqliteDatabase {
  return openSqliteDatabase(path, { pageSize: READ_MODELS_PAGE_SIZE });
}

/**
 * Puts the SQLite file at `replacement` in place of the one at `path`. Every connection to
 * either must be closed: a write-ahead log left beside `path` would be replayed into the new
 * file on its next open, so it goes first. A crash before the rename leaves the old file whole
 * (its log was checkpointed when its last connection closed); the rename itself is atomic.
 */
export function replaceDatabaseFile(path: string, replacement: string): void {
  for (const suffix of SIDECAR_SUFFIXES) {
    rmSync(`${path}${suffix}`, { force: true });
    rmSync(`${replacement}${suffix}`, { force: true });
  }
  renameSync(replacement, path);
}

/**
 * Drops the read models a data directory from before READ_MODELS_FILE kept inside the log's
 * file: every table its checkpoints name, and the checkpoints. Returns the tables dropped;
 * the projections then rebuild them in their own file. The freed pages go to the log.
 */
export function dropEmbeddedReadModels(logDb: SqliteDatabase): string[] {
  const hasCheckpoints = logDb.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'projection_checkpoints'").get();
  if (!hasCheckpoints) return [];
  const tables = [
    ...new Set(
      logDb
        .prepare<[], string>('SELECT tables FROM projection_checkpoints')
        .pluck()
        .all()
        .flatMap((t) => JSON.parse(t) as string[]),
    ),
  ];
  logDb.transaction(() => {
    for (const t of tables) logDb.exec(`DROP TABLE IF EXISTS "${t.replace(/"/g, '""')}"`);
    logDb.exec('DROP TABLE projection_checkpoints');
  })();
  return tables;
}
