import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '@chronicle/domain';
import { createSqliteEventStore, openSqliteDatabase, type SqliteDatabase } from '@chronicle/event-store';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProjectionDefinition } from '../runner/projection.js';
import { ProjectionRunner } from '../runner/projection-runner.js';
import { asOfSelect } from './as-of-views.js';
import { EventPosition } from './event-position.js';
import type { TableTiming } from './table-timing.js';
import { installTimeTravel } from './versioning.js';

/** A table with a two-column key, its versioning, and a reader of its state at any position. */
function versionedTable(timing: TableTiming = { kind: 'versioned' }) {
  const db = openSqliteDatabase(':memory:');
  db.exec('CREATE TABLE things (owner TEXT NOT NULL, name TEXT NOT NULL, colour TEXT, size INTEGER, seen_at INTEGER, PRIMARY KEY (owner, name)) WITHOUT ROWID');
  const at = new EventPosition(db);
  installTimeTravel(db, 'things', timing);
  let asOf = 0;
  db.function('chronicle_as_of', { deterministic: true }, () => asOf);
  db.exec(`CREATE TEMP VIEW things_then AS ${asOfSelect(db, 'things', timing)}`);
  const read = db.prepare('SELECT * FROM temp.things_then ORDER BY owner, name');
  return {
    db,
    /** Runs `writes` as the event at `position`. */
    event(position: number, writes: string) {
      at.applying(position);
      db.exec(writes);
      at.idle(position);
    },
    at(position: number) {
      asOf = position;
      return read.all();
    },
    versions: () => db.prepare('SELECT * FROM things__versions ORDER BY owner, name, valid_from').all(),
  };
}

describe('versioning triggers', () => {
  it('keep each content of a row with the positions it held between', () => {
    const t = versionedTable();
    t.event(3, "INSERT INTO things VALUES ('ada', 'box', 'red', 1, 0)");
    t.event(5, "UPDATE things SET colour = 'blue' WHERE owner = 'ada'");
    t.event(8, "UPDATE things SET size = 2 WHERE owner = 'ada'");
    expect(t.at(2)).toEqual([]);
    expect(t.at(3)).toEqual([{ owner: 'ada', name: 'box', colour: 'red', size: 1, seen_at: 0 }]);
    expect(t.at(4)).toEqual(t.at(3));
    expect(t.at(5)).toEqual([{ owner: 'ada', name: 'box', colour: 'blue', size: 1, seen_at: 0 }]);
    expect(t.at(100)).toEqual([{ owner: 'ada', name: 'box', colour: 'blue', size: 2, seen_at: 0 }]);
    expect(t.versions()).toMatchObject([
      { colour: 'red', valid_from: 3, valid_to: 5 },
      { colour: 'blue', size: 1, valid_from: 5, valid_to: 8 },
      { colour: 'blue', size: 2, valid_from: 8, valid_to: null },
    ]);
  });

  it('end a deleted row at the deleting event, and start it again when re-inserted', () => {
    const t = versionedTable();
    t.event(1, "INSERT INTO things VALUES ('ada', 'box', 'red', 1, 0)");
    t.event(4, "DELETE FROM things WHERE owner = 'ada'");
    t.event(9, "INSERT INTO things VALUES ('ada', 'box', 'green', 7, 0)");
    expect(t.at(3)).toMatchObject([{ colour: 'red' }]);
    expect(t.at(4)).toEqual([]);
    expect(t.at(8)).toEqual([]);
    expect(t.at(9)).toMatchObject([{ colour: 'green', size: 7 }]);
  });

  it('keep only the last of several changes made by one event', () => {
    const t = versionedTable();
    t.event(2, "INSERT INTO things VALUES ('ada', 'box', 'red', 1, 0)");
    t.event(
      6,
      `UPDATE things SET colour = 'blue' WHERE owner = 'ada';
       UPDATE things SET size = 3 WHERE owner = 'ada';
       INSERT INTO things VALUES ('bob', 'cup', 'white', 1, 0);
       DELETE FROM things WHERE owner = 'bob';
       DELETE FROM things WHERE owner = 'ada';
       INSERT INTO things VALUES ('ada', 'box', 'black', 9, 0);`,
    );
    expect(t.at(5)).toMatchObject([{ owner: 'ada', colour: 'red', size: 1 }]);
    // bob's cup lived and died inside event 6: no position sees it.
    expect(t.at(6)).toEqual([{ owner: 'ada', name: 'box', colour: 'black', size: 9, seen_at: 0 }]);
    expect(t.versions().filter((v) => (v as { owner: string }).owner === 'ada')).toHaveLength(2);
  });

  it('follow a row whose key changes (a rename), and a row replaced by INSERT OR REPLACE or an upsert', () => {
    const t = versionedTable();
    t.event(1, "INSERT INTO things VALUES ('ada', 'box', 'red', 1, 0)");
    t.event(2, "UPDATE things SET name = 'crate' WHERE name = 'box'");
    t.event(3, "INSERT OR REPLACE INTO things VALUES ('ada', 'crate', 'teal', 2, 0)");
    t.event(4, "INSERT INTO things VALUES ('ada', 'crate', 'x', 0, 0) ON CONFLICT DO UPDATE SET colour = 'gold'");
    expect(t.at(1)).toMatchObject([{ name: 'box', colour: 'red' }]);
    expect(t.at(2)).toMatchObject([{ name: 'crate', colour: 'red' }]);
    expect(t.at(3)).toMatchObject([{ name: 'crate', colour: 'teal', size: 2 }]);
    expect(t.at(4)).toMatchObject([{ name: 'crate', colour: 'gold', size: 2 }]);
  });

  it('record no version for an update that changes nothing, nor for untracked columns', () => {
    const t = versionedTable({ kind: 'versioned', untracked: { seen_at: '-1' } });
    t.event(1, "INSERT INTO things VALUES ('ada', 'box', 'red', 1, 100)");
    t.event(2, "UPDATE things SET colour = 'red' WHERE owner = 'ada'");
    t.event(3, "UPDATE things SET seen_at = 200 WHERE owner = 'ada'");
    expect(t.versions()).toHaveLength(1);
    // The untracked column is whatever its expression computes for the past.
    expect(t.at(3)).toEqual([{ owner: 'ada', name: 'box', colour: 'red', size: 1, seen_at: -1 }]);
  });

  it('refuse to change an append-only table, whose rows are dated by their position column', () => {
    const db = openSqliteDatabase(':memory:');
    db.exec('CREATE TABLE log (position INTEGER PRIMARY KEY, what TEXT)');
    new EventPosition(db);
    installTimeTravel(db, 'log', { kind: 'append-only', positionColumn: 'position' });
    db.exec("INSERT INTO log VALUES (1, 'a')");
    expect(() => db.exec("UPDATE log SET what = 'b'")).toThrow(/append-only for time travel/);
    expect(() => db.exec('DELETE FROM log')).toThrow(/append-only for time travel/);
    expect(asOfSelect(db, 'log', { kind: 'append-only', positionColumn: 'position' })).toMatch(/WHERE "position" <= chronicle_as_of\(\)/);
  });
});

describe('the runner with time travel', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A read model that counts events per stream, writing either in apply() or in flush(). */
  const counter = (name: string, writeIn: 'apply' | 'flush'): ProjectionDefinition => ({
    name,
    tables: ['rm_counts'],
    open(db: SqliteDatabase) {
      db.exec('CREATE TABLE IF NOT EXISTS rm_counts (stream TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID');
      const bump = db.prepare('INSERT INTO rm_counts (stream, n) VALUES (?, 1) ON CONFLICT DO UPDATE SET n = n + 1');
      const pending: string[] = [];
      return {
        apply: (e: RecordedEvent) => (writeIn === 'apply' ? bump.run(e.stream) : pending.push(e.stream)),
        flush: () => {
          for (const s of pending.splice(0)) bump.run(s);
        },
        discard: () => pending.splice(0),
      };
    },
  });

  async function storeWith(events: number) {
    const dir = mkdtempSync(join(tmpdir(), 'chronicle-versioning-'));
    dirs.push(dir);
    const store = createSqliteEventStore({ path: join(dir, 'chronicle.db') });
    for (let i = 0; i < events; i++) await store.append([{ stream: `s-${i % 2}`, expectedRevision: 'any', events: [{ type: 'T', data: {} }] }], { actor: 'user:ada' });
    return store;
  }

  it('dates each write with the position of the event being applied, whatever the batch size', async () => {
    const store = await storeWith(7);
    await new ProjectionRunner({ store, db: store.db, projections: [counter('counts.v1', 'apply')], batchSize: 3 }).catchUp();
    expect(store.db.prepare("SELECT n, valid_from, valid_to FROM rm_counts__versions WHERE stream = 's-0' ORDER BY valid_from").all()).toEqual([
      { n: 1, valid_from: 1, valid_to: 3 },
      { n: 2, valid_from: 3, valid_to: 5 },
      { n: 3, valid_from: 5, valid_to: 7 },
      { n: 4, valid_from: 7, valid_to: null },
    ]);
  });

  it('stops with a clear error when flush() writes a versioned table, which no event can date', async () => {
    const store = await storeWith(3);
    const runner = new ProjectionRunner({ store, db: store.db, projections: [counter('counts.v1', 'flush')] });
    await runner.catchUp();
    expect(String(runner.error)).toMatch(/written by flush\(\).*time travel cannot date that write/);
    expect(runner.position).toBe(0);
  });

  it('rebuilds a projection whose tables were recorded without their versions (an upgrade)', async () => {
    const store = await storeWith(4);
    await new ProjectionRunner({ store, db: store.db, projections: [counter('counts.v1', 'apply')] }).catchUp();
    // What a data file written before time travel holds: no versions, tables recorded alone.
    store.db.exec("DROP TABLE rm_counts__versions; UPDATE projection_checkpoints SET tables = '[\"rm_counts\"]'");
    const runner = new ProjectionRunner({ store, db: store.db, projections: [counter('counts.v1', 'apply')] });
    expect(runner.position).toBe(0);
    await runner.catchUp();
    expect(store.db.prepare('SELECT count(*) AS n FROM rm_counts__versions').get()).toEqual({ n: 4 });
    expect(store.db.prepare('SELECT sum(n) AS n FROM rm_counts').get()).toEqual({ n: 4 });
  });
});
