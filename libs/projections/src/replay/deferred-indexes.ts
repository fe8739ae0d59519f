import type { SqliteDatabase } from '@chronicle/event-store';
import { versionsTableOf } from '../temporal/table-timing.js';

/**
 * Secondary indexes that no projection reads while it applies events, so a bulk rebuild can
 * leave them out and build each one at the end, by one sort instead of a b-tree insert per
 * row. An index holds the same entries whichever way it was built.
 *
 * Only indexes known to be write-only during projection are listed: one a projection looks
 * rows up through would turn each lookup into a table scan. Unique indexes always stay (they
 * decide what an insert does).
 */
const WRITE_ONLY_INDEXED_TABLES = new Set([
  // The audit log only ever inserts; its five indexes serve queries.
  'rm_audit_log',
  // The runs projection reads params, tags and metrics by (run_id, key), never by the kv indexes.
  'rm_run_params',
  'rm_run_tags',
  'rm_run_metrics',
]);

export interface DeferredIndex {
  name: string;
  sql: string;
}

/**
 * Drops the deferrable indexes of `tables` from `db` and returns what rebuilds them: the
 * listed tables' own, and on every versions table the mirrors of its table's indexes (only
 * as-of queries read those; the versioning triggers go through the key).
 */
export function dropDeferrableIndexes(db: SqliteDatabase, tables: readonly string[]): DeferredIndex[] {
  const versions = new Set(tables.map(versionsTableOf));
  const deferrable = db
    .prepare<[], { name: string; tbl_name: string; sql: string | null }>("SELECT name, tbl_name, sql FROM main.sqlite_schema WHERE type = 'index'")
    .all()
    .filter((i) => i.sql !== null && !/^\s*CREATE\s+UNIQUE\b/i.test(i.sql))
    .filter((i) => WRITE_ONLY_INDEXED_TABLES.has(i.tbl_name) || (versions.has(i.tbl_name) && i.name.startsWith(`${i.tbl_name}__`)));
  for (const i of deferrable) db.exec(`DROP INDEX main."${i.name.replace(/"/g, '""')}"`);
  return deferrable.map((i) => ({ name: i.name, sql: i.sql! }));
}

/** Builds the indexes dropDeferrableIndexes took away, from their own schema text. */
export function createDeferredIndexes(db: SqliteDatabase, indexes: readonly DeferredIndex[]): void {
  db.transaction(() => {
    for (const i of indexes) db.exec(i.sql);
  })();
}
