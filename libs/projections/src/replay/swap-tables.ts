import type { SqliteDatabase } from '@chronicle/event-store';

interface SchemaEntry {
  type: 'table' | 'index' | 'trigger';
  name: string;
  tbl_name: string;
  sql: string | null;
}

const CHECKPOINT_TABLE = 'projection_checkpoints';
const SHADOW = 'chronicle_replay';

/**
 * Replaces `tables` (and the checkpoints of the rebuilt projections) in `live` with the ones
 * built in the SQLite file at `shadowPath`, in one transaction: a reader sees either the old
 * read models or the new ones, never a mix. The shadow file must be closed by its writer.
 *
 * SQLite cannot move a table between files, so rows are copied; tables and indexes are
 * recreated from the shadow's own schema text, so the copy is the same table, not a look-alike.
 * Triggers (time travel's versioning) are recreated last, so that copying rows fires none.
 * Statements prepared against the old tables recompile on their next use (schema change).
 */
export function swapInTables(live: SqliteDatabase, shadowPath: string, tables: readonly string[]): { rows: number } {
  const wanted = new Set([...tables, CHECKPOINT_TABLE]);
  live.prepare(`ATTACH DATABASE ? AS ${SHADOW}`).run(shadowPath);
  try {
    const schema = live
      .prepare<[], SchemaEntry>(`SELECT type, name, tbl_name, sql FROM ${SHADOW}.sqlite_schema WHERE type IN ('table', 'index', 'trigger') ORDER BY type DESC, name`)
      .all()
      .filter((e) => wanted.has(e.tbl_name) && e.sql !== null);
    const missing = tables.filter((t) => !schema.some((e) => e.type === 'table' && e.name === t));
    if (missing.length > 0) throw new Error(`the rebuilt read models lack table(s) ${missing.join(', ')}`);
    let rows = 0;
    live.transaction(() => {
      for (const t of tables) live.exec(`DROP TABLE IF EXISTS main.${t}`);
      for (const e of schema) {
        if (e.tbl_name === CHECKPOINT_TABLE || e.type === 'trigger') continue;
        // Unqualified CREATE statements land in `main`, the live database.
        live.exec(e.sql!);
      }
      for (const t of tables) rows += live.prepare(`INSERT INTO main.${t} SELECT * FROM ${SHADOW}.${t}`).run().changes;
      for (const e of schema) if (e.type === 'trigger') live.exec(e.sql!);
      const checkpointSql = schema.find((e) => e.type === 'table' && e.name === CHECKPOINT_TABLE)?.sql;
      if (checkpointSql) live.exec(checkpointSql.replace(/^CREATE TABLE\b/i, 'CREATE TABLE IF NOT EXISTS'));
      live.exec(`INSERT OR REPLACE INTO main.${CHECKPOINT_TABLE} SELECT * FROM ${SHADOW}.${CHECKPOINT_TABLE}`);
    })();
    return { rows };
  } finally {
    live.exec(`DETACH DATABASE ${SHADOW}`);
  }
}
