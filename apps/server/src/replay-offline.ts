import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NotFound } from '@chronicle/domain';
import { createSqliteEventStore, openSqliteDatabase } from '@chronicle/event-store';
import { allProjections, dropEmbeddedReadModels, READ_MODELS_FILE, replaceDatabaseFile, replayReadModels, type ReplayProgress, type ReplayResult } from '@chronicle/projections';
import { DATABASE_FILE } from './platform.js';

export type { ReplayProgress, ReplayResult };

/**
 * Rebuilds every read model of a stopped server's data directory from its log, then swaps
 * them in: the same replay the admin endpoint runs, without a server.
 */
export async function replayDataDir(dataDir: string, onProgress?: (p: ReplayProgress) => void): Promise<ReplayResult> {
  const path = join(dataDir, DATABASE_FILE);
  if (!existsSync(path)) throw new NotFound(`no Chronicle data in ${dataDir} (${DATABASE_FILE} is missing)`);
  const db = openSqliteDatabase(path);
  const store = createSqliteEventStore({ db });
  const readModelsPath = join(dataDir, READ_MODELS_FILE);
  try {
    dropEmbeddedReadModels(db);
    return await replayReadModels({
      store,
      // Nothing projects into it here: the next server start opens it.
      replaceFile: (rebuilt) => replaceDatabaseFile(readModelsPath, rebuilt),
      projections: allProjections,
      shadowPath: join(dataDir, 'replay-offline.db'),
      ...(onProgress ? { onProgress } : {}),
    });
  } finally {
    await store.close();
    db.close();
  }
}
