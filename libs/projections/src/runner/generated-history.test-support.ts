import { createCommands, type CommandContext } from '@chronicle/commands';
import { join } from 'node:path';
import { createSqliteEventStore, type EventStore, type SqliteDatabase } from '@chronicle/event-store';
import { allProjections } from '../read-models.js';
import { openReadModelsDatabase, READ_MODELS_FILE } from '../replay/read-model-file.js';
import { ProjectionRunner, tablesWithHistory } from './projection-runner.js';

// Test support shared by the runner's and the replay's tests (excluded from the build).

export const admin: CommandContext = { principal: { username: 'ada', role: 'admin', via: { kind: 'loopback' } } };

/** A deterministic pseudo-random generator, so a failing history can be replayed. */
export function rng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

export function dump(db: SqliteDatabase): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const p of allProjections)
    for (const t of tablesWithHistory(p)) {
      const cols = (db.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((c) => c.name);
      out[t] = db.prepare(`SELECT * FROM ${t} ORDER BY ${cols.join(', ')}`).all();
    }
  return out;
}

/**
 * A history made through the commands, projected incrementally as it is written. With `dir`,
 * laid out as a server's data directory: the log and the read models in their own files
 * (`db` is then the read models' connection); else both in one in-memory database.
 */
export async function generateHistory(
  seed: number,
  steps = 400,
  dir?: string,
): Promise<{ store: EventStore & { db: SqliteDatabase }; incremental: ProjectionRunner; db: SqliteDatabase }> {
  const store = createSqliteEventStore({ path: dir ? join(dir, 'chronicle.db') : ':memory:' });
  const db = dir ? openReadModelsDatabase(join(dir, READ_MODELS_FILE)) : store.db;
  let clock = 1_700_000_000_000;
  const incremental = new ProjectionRunner({ store, db, projections: allProjections, batchSize: 7 });
  incremental.start();
  const commands = createCommands({ store, clock: () => (clock += 13), afterAppend: (p) => incremental.waitFor(p) });
  const rand = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const experiments: string[] = [];
  const runs: string[] = [];
  for (let i = 0; i < 4; i++)
    experiments.push((await commands.experiments.create(admin, { name: `exp-${i}`, tags: [{ key: 'i', value: String(i) }] })).experimentId);
  for (let step = 0; step < steps; step++) {
    const r = rand();
    try {
      if (r < 0.1 || runs.length === 0) {
        runs.push((await commands.runs.start(admin, { experimentId: pick(experiments), name: `run-${step}`, tags: [{ key: 'k', value: 'v' }] })).runId);
      } else if (r < 0.55) {
        const n = 1 + Math.floor(rand() * 600);
        const key = pick(['loss', 'acc', 'lr']);
        await commands.runs.logMetrics(
          admin,
          pick(runs),
          Array.from({ length: n }, (_, j) => ({
            key,
            value: rand() < 0.02 ? Number.NaN : rand() < 0.01 ? Number.POSITIVE_INFINITY : rand(),
            step: rand() < 0.05 ? Math.floor(rand() * 100) : step * 1000 + j,
          })),
        );
      } else if (r < 0.7) {
        await commands.runs.logParams(admin, pick(runs), [{ key: pick(['a', 'b', 'c']), value: pick(['1', '2']) }]);
      } else if (r < 0.8) {
        await commands.runs.setTags(admin, pick(runs), [{ key: pick(['x', 'y']), value: String(step) }]);
      } else if (r < 0.85) {
        await commands.runs.finish(admin, pick(runs), pick(['FINISHED', 'FAILED', 'KILLED'] as const));
      } else if (r < 0.9) {
        await commands.runs.delete(admin, pick(runs));
      } else if (r < 0.93) {
        await commands.runs.restore(admin, pick(runs));
      } else if (r < 0.96) {
        await commands.runs.move(admin, pick(runs), pick(experiments));
      } else {
        await commands.runs.deleteTag(admin, pick(runs), pick(['x', 'y', 'k']));
      }
    } catch (e) {
      // Refusals (changed params, ended runs, missing tags) are part of a realistic history.
      if (!(e instanceof Error) || !('kind' in e)) throw e;
    }
  }
  await incremental.catchUp();
  return { store, incremental, db };
}
