import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCommands } from '@chronicle/commands';
import { openSqliteDatabase, type SqliteDatabase } from '@chronicle/event-store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { allProjections, createReadModels } from '../read-models.js';
import { admin, generateHistory } from '../runner/generated-history.test-support.js';
import { ProjectionRunner, tablesWithHistory } from '../runner/projection-runner.js';
import { openReadModelsDatabase, READ_MODELS_FILE, replaceDatabaseFile } from './read-model-file.js';
import { replayReadModels, type ReplayProgress } from './replay-read-models.js';

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-replay-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A generated history in a data directory, served as a server serves it: `live.db` is the read
 * models' connection of the moment, and `replaceFile` swaps a rebuilt file in the way a server
 * does (close, rename over, reopen).
 */
async function servedHistory(seed: number, steps: number) {
  const dir = scratch();
  const history = await generateHistory(seed, steps, dir);
  const path = join(dir, READ_MODELS_FILE);
  const live = { db: history.db };
  cleanups.push(async () => {
    await history.incremental.stop();
    if (live.db.open) live.db.close();
    await history.store.close();
  });
  const replaceFile = (rebuilt: string): SqliteDatabase => {
    live.db.close();
    replaceDatabaseFile(path, rebuilt);
    return (live.db = openReadModelsDatabase(path));
  };
  return { ...history, live, replaceFile, shadowPath: join(scratch(), 'shadow.db') };
}

/** Every row of every read model as SQLite's own literal text: blobs as hex, floats exactly. */
function bytesOf(db: SqliteDatabase): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  // Time travel's versions tables included: a rebuild must give the same past too.
  for (const p of allProjections)
    for (const t of tablesWithHistory(p)) {
      const cols = (db.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((c) => c.name);
      const row = cols.map((c) => `quote(${c})`).join(` || '|' || `);
      out[t] = db.prepare(`SELECT ${row} AS r FROM ${t} ORDER BY ${cols.join(', ')}`).pluck().all() as string[];
    }
  return out;
}

describe('replayReadModels', () => {
  it('swaps in read models identical, byte for byte, to the incrementally built ones', async () => {
    const { store, incremental, live, replaceFile, shadowPath } = await servedHistory(11, 1500);
    // The log is a file, so the rebuild reads it on another thread.
    const readAhead = vi.spyOn(store, 'readAhead');
    const expected = bytesOf(live.db);
    expect(expected['rm_metric_chunks']!.length).toBeGreaterThan(100);
    expect(expected['rm_runs__versions']!.length).toBeGreaterThan(10);
    expect(expected['rm_metric_history']!.length).toBeGreaterThan(100);
    // Damage the live models: only a real swap can bring them back.
    live.db.exec('DELETE FROM rm_runs; DELETE FROM rm_metric_chunks; UPDATE rm_experiments SET name = name || \'-x\'');
    expect(bytesOf(live.db)).not.toEqual(expected);

    const phases = new Set<string>();
    const result = await replayReadModels({
      store,
      replaceFile,
      projections: allProjections,
      liveRunner: incremental,
      shadowPath,
      batchSize: 500,
      onProgress: (p) => phases.add(p.phase),
    });

    expect(result.position).toBe(await store.headPosition());
    expect(result.events).toBe(result.position);
    expect(bytesOf(live.db)).toEqual(expected);
    expect(readAhead).toHaveBeenCalledOnce();
    expect([...phases]).toEqual(['rebuilding', 'catching_up', 'swapping', 'done']);
    expect(readdirSync(join(shadowPath, '..'))).toEqual([]);
  });

  it('builds the indexes it left out of the bulk load: the same schema after the swap, and a sound file', async () => {
    const { store, incremental, live, replaceFile, shadowPath } = await servedHistory(3, 600);
    const schemaOf = () =>
      live.db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name LIKE 'rm\\_%' ESCAPE '\\' ORDER BY name").all();
    const before = schemaOf();
    expect(before.some((e) => (e as { name: string }).name === 'rm_audit_log_stream')).toBe(true);
    expect(before.some((e) => (e as { name: string }).name === 'rm_run_params__versions__rm_run_params_kv')).toBe(true);

    await replayReadModels({ store, replaceFile, projections: allProjections, liveRunner: incremental, shadowPath });

    expect(schemaOf()).toEqual(before);
    expect(live.db.pragma('integrity_check', { simple: true })).toBe('ok');
    // The index answers as a scan would.
    const byIndex = live.db.prepare("SELECT count(*) FROM rm_audit_log INDEXED BY rm_audit_log_type WHERE type = 'RunStarted'").pluck().get();
    const byScan = live.db.prepare("SELECT count(*) FROM rm_audit_log NOT INDEXED WHERE type = 'RunStarted'").pluck().get();
    expect(byIndex).toBe(byScan);
    expect(byIndex).toBeGreaterThan(0);
  });

  it('loses no event appended during the rebuild and leaves the live runner caught up', async () => {
    const { store, incremental, live, replaceFile, shadowPath } = await servedHistory(5, 1200);
    const commands = createCommands({ store, afterAppend: (p) => incremental.waitFor(p) });
    const { experimentId } = await commands.experiments.create(admin, { name: 'live' });
    const { runId } = await commands.runs.start(admin, { experimentId, name: 'during-replay' });
    const headBefore = await store.headPosition();
    let replaying = true;
    let logged = 0;
    let loggedBeforeCatchUp = 0;
    const progress: ReplayProgress[] = [];
    const writer = (async () => {
      for (let step = 0; replaying || step < 5; step++) {
        await commands.runs.logMetrics(admin, runId, [{ key: 'live', value: step / 10, step }]);
        logged++;
        // A query between writes must always see a whole model, never a half-built one.
        expect(createReadModels(live.db).metrics.history(runId, 'live', { first: 1 }).totalCount).toBe(logged);
        // Each write is its own request, as on a server: a turn of the event loop apart.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const result = await replayReadModels({
      store,
      replaceFile,
      projections: allProjections,
      liveRunner: incremental,
      shadowPath,
      batchSize: 200,
      onProgress: (p) => {
        progress.push(p);
        if (p.phase === 'catching_up') loggedBeforeCatchUp = logged;
      },
    });
    replaying = false;
    await writer;
    await incremental.catchUp();

    // Writes landed during the rebuild, not only after it: the catch-up had events to bring in.
    expect(loggedBeforeCatchUp).toBeGreaterThan(0);
    expect(result.position).toBeGreaterThan(headBefore);
    expect(progress.some((p) => p.phase === 'rebuilding' && p.eventsPerSecond > 0 && p.etaSeconds !== null)).toBe(true);
    expect(incremental.position).toBe(await store.headPosition());
    expect(createReadModels(live.db).metrics.history(runId, 'live', { first: 1 }).totalCount).toBe(logged);
    // And the swapped-in models, advanced incrementally afterwards, equal a rebuild from scratch.
    const fresh = openSqliteDatabase(':memory:');
    await new ProjectionRunner({ store, db: fresh, projections: allProjections }).catchUp();
    expect(bytesOf(live.db)).toEqual(bytesOf(fresh));
  });

  it('stops the log reader thread and keeps serving when aborted mid-rebuild (a server shutting down)', async () => {
    const { store, incremental, live, replaceFile, shadowPath } = await servedHistory(4, 800);
    const before = bytesOf(live.db);
    const open = store.readAhead!.bind(store);
    let readerClosed = false;
    vi.spyOn(store, 'readAhead').mockImplementation((o) => {
      const reader = open(o);
      return { read: (after, limit) => reader.read(after, limit), close: async () => ((readerClosed = true), reader.close()) };
    });
    const abort = new AbortController();
    await expect(
      replayReadModels({
        store,
        replaceFile,
        projections: allProjections,
        liveRunner: incremental,
        shadowPath,
        batchSize: 100,
        signal: abort.signal,
        onProgress: (p) => {
          if (p.phase === 'rebuilding') abort.abort(new Error('the server is shutting down'));
        },
      }),
    ).rejects.toThrow('the server is shutting down');
    expect(readerClosed).toBe(true);
    expect(readdirSync(join(shadowPath, '..'))).toEqual([]);
    expect(bytesOf(live.db)).toEqual(before);
    // The live runner was never paused: a write after the abort still shows up.
    const commands = createCommands({ store, afterAppend: (p) => incremental.waitFor(p) });
    await commands.experiments.create(admin, { name: 'after-abort' });
    expect(createReadModels(live.db).experiments.list().map((e) => e.name)).toContain('after-abort');
  });

  it('leaves the live read models untouched when the rebuild fails', async () => {
    const { store, incremental, live, replaceFile, shadowPath } = await servedHistory(2, 200);
    const before = bytesOf(live.db);
    const broken = allProjections.map((p) =>
      p.name === 'runs.v1'
        ? {
            ...p,
            open: (db: Parameters<typeof p.open>[0]) => {
              const handler = p.open(db);
              return {
                apply: (e: Parameters<typeof handler.apply>[0]) => {
                  if (e.position > 100) throw new Error('boom');
                  handler.apply(e);
                },
              };
            },
          }
        : p,
    );
    await expect(
      replayReadModels({ store, replaceFile, projections: broken, liveRunner: incremental, shadowPath }),
    ).rejects.toThrow('boom');
    expect(bytesOf(live.db)).toEqual(before);
    expect(readdirSync(join(shadowPath, '..'))).toEqual([]);
  });
});
