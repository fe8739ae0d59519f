import type { SqliteDatabase } from '@chronicle/event-store';
import { POSITION_FUNCTION } from './event-position.js';
import { timingOf, versionsTableOf, type TableTiming } from './table-timing.js';

export const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

interface Column {
  name: string;
  type: string;
  pk: number;
}

interface IndexColumn {
  name: string | null;
  desc: number;
  key: number;
}

const P = `${POSITION_FUNCTION}()`;

export function columnsOf(db: SqliteDatabase, table: string, schema = 'main'): Column[] {
  return db.prepare<[], Column>(`PRAGMA ${schema}.table_info(${q(table)})`).all();
}

/** Names of the triggers time travel puts on `table`. */
function triggerNames(table: string) {
  return [`${table}__v_insert`, `${table}__v_update`, `${table}__v_delete`, `${table}__append_only_update`, `${table}__append_only_delete`];
}

/**
 * Makes a read-model table remember its past, according to its timing: a versions table kept
 * by triggers, or a guard that keeps an append-only table append-only. Idempotent.
 */
export function installTimeTravel(db: SqliteDatabase, table: string, timing: TableTiming = timingOf(table)): void {
  if (timing.kind === 'versioned') installVersioning(db, table, Object.keys(timing.untracked ?? {}));
  else if (timing.kind === 'append-only')
    // Dating by the insert position is only right if rows never change afterwards.
    db.exec(`CREATE TRIGGER IF NOT EXISTS ${q(`${table}__append_only_update`)} BEFORE UPDATE ON ${q(table)} BEGIN
      SELECT RAISE(ABORT, 'read-model table ${table} is append-only for time travel: give it another timing in temporal/table-timing.ts'); END;
    CREATE TRIGGER IF NOT EXISTS ${q(`${table}__append_only_delete`)} BEFORE DELETE ON ${q(table)} BEGIN
      SELECT RAISE(ABORT, 'read-model table ${table} is append-only for time travel: give it another timing in temporal/table-timing.ts'); END;`);
}

/** Drops what installTimeTravel made for `table` (before its rows are cleared for a rebuild). */
export function uninstallTimeTravel(db: SqliteDatabase, table: string): void {
  for (const t of triggerNames(table)) db.exec(`DROP TRIGGER IF EXISTS ${q(t)}`);
  db.exec(`DROP TABLE IF EXISTS ${q(versionsTableOf(table))}`);
}

/**
 * `<table>__versions` holds every content a row had, with [valid_from, valid_to): the positions
 * of the event that wrote it and of the one that replaced or deleted it (NULL: still valid).
 * Its primary key is the row's key plus valid_from, so the version valid at a position is one
 * index seek. A row changed twice by one event keeps one version (the upsert), and a row
 * inserted and deleted by one event leaves an empty interval that no position sees.
 */
function installVersioning(db: SqliteDatabase, table: string, untracked: readonly string[]): void {
  const columns = columnsOf(db, table);
  if (columns.length === 0) throw new Error(`time travel: no table ${table}`);
  const key = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
  if (key.length === 0) throw new Error(`time travel: read-model table ${table} needs a PRIMARY KEY to be versioned`);
  const tracked = columns.filter((c) => !untracked.includes(c.name));
  const v = versionsTableOf(table);
  const cols = tracked.map((c) => q(c.name));
  const keyIs = (row: 'OLD' | 'NEW') => key.map((k) => `${q(k)} = ${row}.${q(k)}`).join(' AND ');
  const keyChanged = key.map((k) => `OLD.${q(k)} IS NOT NEW.${q(k)}`).join(' OR ');
  const upsertNew = `INSERT INTO ${q(v)} (${cols.join(', ')}, valid_from, valid_to) VALUES (${tracked.map((c) => `NEW.${q(c.name)}`).join(', ')}, ${P}, NULL)
      ON CONFLICT (${key.map(q).join(', ')}, valid_from) DO UPDATE SET ${[...cols.filter((c) => !key.map(q).includes(c)).map((c) => `${c} = excluded.${c}`), 'valid_to = NULL'].join(', ')};`;
  const changed = tracked.map((c) => `OLD.${q(c.name)} IS NOT NEW.${q(c.name)}`).join(' OR ');

  db.exec(`
    CREATE TABLE IF NOT EXISTS ${q(v)} (
      ${tracked.map((c) => `${q(c.name)} ${c.type}`).join(', ')},
      valid_from INTEGER NOT NULL, valid_to INTEGER,
      PRIMARY KEY (${key.map(q).join(', ')}, valid_from)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX IF NOT EXISTS ${q(`${v}_open`)} ON ${q(v)} (${key.map(q).join(', ')}) WHERE valid_to IS NULL;
    CREATE TRIGGER IF NOT EXISTS ${q(`${table}__v_insert`)} AFTER INSERT ON ${q(table)} BEGIN
      UPDATE ${q(v)} SET valid_to = ${P} WHERE ${keyIs('NEW')} AND valid_to IS NULL AND valid_from < ${P};
      ${upsertNew}
    END;
    CREATE TRIGGER IF NOT EXISTS ${q(`${table}__v_update`)} AFTER UPDATE OF ${cols.join(', ')} ON ${q(table)} WHEN ${changed} BEGIN
      UPDATE ${q(v)} SET valid_to = ${P} WHERE ${keyIs('OLD')} AND valid_to IS NULL AND (valid_from < ${P} OR ${keyChanged});
      ${upsertNew}
    END;
    CREATE TRIGGER IF NOT EXISTS ${q(`${table}__v_delete`)} AFTER DELETE ON ${q(table)} BEGIN
      UPDATE ${q(v)} SET valid_to = ${P} WHERE ${keyIs('OLD')} AND valid_to IS NULL;
    END;`);
  mirrorIndexes(db, table, v, new Set(tracked.map((c) => c.name)));
}

/**
 * The table's own secondary indexes, on its versions too (unique ones as plain indexes: many
 * versions share a value), so an as-of query finds the same access paths as a live one.
 */
function mirrorIndexes(db: SqliteDatabase, table: string, v: string, tracked: ReadonlySet<string>): void {
  const indexes = db
    .prepare<[], { name: string; origin: string; partial: number }>(`PRAGMA main.index_list(${q(table)})`)
    .all()
    .filter((i) => i.origin !== 'pk' && i.partial === 0);
  for (const index of indexes) {
    const parts = db
      .prepare<[], IndexColumn>(`PRAGMA main.index_xinfo(${q(index.name)})`)
      .all()
      .filter((c) => c.key === 1);
    // Expression indexes and those over untracked columns have nothing to mirror.
    if (parts.some((c) => c.name === null || !tracked.has(c.name))) continue;
    const cols = parts.map((c) => `${q(c.name!)}${c.desc ? ' DESC' : ''}`);
    db.exec(`CREATE INDEX IF NOT EXISTS ${q(`${v}__${index.name}`)} ON ${q(v)} (${cols.join(', ')})`);
  }
}
