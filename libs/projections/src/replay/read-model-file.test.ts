import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteEventStore, openSqliteDatabase } from '@chronicle/event-store';
import { afterEach, describe, expect, it } from 'vitest';
import { allProjections } from '../read-models.js';
import { ProjectionRunner } from '../runner/projection-runner.js';
import { dropEmbeddedReadModels, replaceDatabaseFile } from './read-model-file.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const tableNames = (db: ReturnType<typeof openSqliteDatabase>) =>
  db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();

describe('the read models’ own file', () => {
  it('takes over from read models kept inside the log’s file: they are dropped there, the log stays whole', async () => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-rmfile-'));
    const store = createSqliteEventStore({ path: join(dir, 'chronicle.db') });
    await store.append([{ stream: 'experiment-1', expectedRevision: 'no_stream', events: [{ type: 'ExperimentCreated', data: { experimentId: '1', name: 'e', description: '', tags: [], createdAt: 1 } }] }], { actor: 'user:ada' });
    // The layout before: projections wrote into the log's own connection.
    await new ProjectionRunner({ store, db: store.db, projections: allProjections }).catchUp();
    expect(tableNames(store.db)).toContain('rm_runs__versions');

    const dropped = dropEmbeddedReadModels(store.db);
    expect(dropped).toContain('rm_experiments');
    expect(tableNames(store.db)).toEqual(['events', 'idempotency', 'streams']);
    expect(await store.headPosition()).toBe(1);
    expect(dropEmbeddedReadModels(store.db)).toEqual([]);
    await store.close();
  });

  it('is replaced whole, and a write-ahead log left beside the old file is not replayed into the new one', () => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-rmfile-'));
    const live = join(dir, 'read-models.db');
    const rebuilt = join(dir, 'replay.db');
    const a = openSqliteDatabase(rebuilt);
    a.exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('new')");
    a.close();
    writeFileSync(live, 'old');
    writeFileSync(`${live}-wal`, 'stale log of the old file');
    replaceDatabaseFile(live, rebuilt);
    expect(existsSync(rebuilt)).toBe(false);
    expect(existsSync(`${live}-wal`)).toBe(false);
    const b = openSqliteDatabase(live);
    expect(b.prepare('SELECT v FROM t').pluck().all()).toEqual(['new']);
    b.close();
  });
});
