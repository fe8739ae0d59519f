import type { SqliteDatabase } from '@chronicle/event-store';
import { METRIC_VIEWS } from './metric-views.js';
import { timingOf, versionsTableOf, type TableTiming } from './table-timing.js';
import { columnsOf, q } from './versioning.js';

const AS_OF = 'chronicle_as_of()';

/** Rows valid at the position asked about: [valid_from, valid_to) contains it. */
const VISIBLE = `v.valid_from <= ${AS_OF} AND (v.valid_to IS NULL OR v.valid_to > ${AS_OF})`;

/**
 * The SELECT that stands for `table` as of chronicle_as_of(), with the table's own columns in
 * its own order, so `SELECT *` and every query text read the same shape.
 */
export function asOfSelect(db: SqliteDatabase, table: string, timing: TableTiming = timingOf(table)): string | null {
  const columns = columnsOf(db, table).map((c) => c.name);
  switch (timing.kind) {
    case 'versioned': {
      const v = versionsTableOf(table);
      if (columnsOf(db, v).length === 0)
        throw new Error(`time travel: ${v} is missing; the read models were built without it and must be rebuilt (restart the server)`);
      const untracked = timing.untracked ?? {};
      const select = columns.map((c) => (c in untracked ? `${untracked[c]} AS ${q(c)}` : `v.${q(c)}`));
      return `SELECT ${select.join(', ')} FROM main.${q(v)} v WHERE ${VISIBLE}`;
    }
    case 'append-only':
      return `SELECT ${columns.map(q).join(', ')} FROM main.${q(table)} WHERE ${q(timing.positionColumn)} <= ${AS_OF}`;
    case 'derived': {
      const sql = METRIC_VIEWS[table];
      if (!sql) throw new Error(`time travel: no as-of view for derived table ${table}`);
      return sql;
    }
    case 'internal':
      return null;
  }
}

/**
 * Shadows every read-model table with a TEMP VIEW of the same name on `db`: unqualified names
 * resolve to temp objects first, so the unchanged query code reads the past through them.
 * Views are created in dependency order (the metric views build on rm_metric_series).
 */
export function createAsOfViews(db: SqliteDatabase, tables: readonly string[]): void {
  const order = [...tables].sort((a, b) => rank(a) - rank(b));
  db.transaction(() => {
    for (const t of order) {
      const select = asOfSelect(db, t);
      if (select === null) continue;
      db.exec(`DROP VIEW IF EXISTS temp.${q(t)}`);
      db.exec(`CREATE TEMP VIEW ${q(t)} AS ${select}`);
    }
  })();
}

const rank = (t: string) => (t === 'rm_metric_series' ? 0 : t === 'rm_metric_chunks' ? 1 : 2);
