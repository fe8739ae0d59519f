import { ValidationFailed } from '@chronicle/domain';
import { openSqliteDatabase, type SqliteDatabase } from '@chronicle/event-store';
import { allProjections, createReadModels, type ReadModels } from '../read-models.js';
import { mapResultFunctions } from '../query-results.js';
import type { ProjectionDefinition } from '../runner/projection.js';
import { createAsOfViews } from './as-of-views.js';
import { registerMetricViewSupport } from './metric-views.js';

export interface TimeTravelOptions {
  /** The SQLite file the read models (and their versions) live in. */
  path: string;
  projections?: readonly ProjectionDefinition[];
}

/** Read models as they stood at a past position of the log. */
export interface TimeTravel {
  /**
   * The read models once the event at `position` was applied (0: before the first event).
   * The caller makes sure the projections have reached `position`.
   */
  at(position: number): ReadModels;
  close(): void;
}

/**
 * Opens a second connection to the read models' file on which TEMP VIEWs named like the
 * read-model tables shadow them with their state at a position (chronicle_as_of()), and runs
 * the unchanged query code (createReadModels) on it. The connection is shared: better-sqlite3
 * is synchronous, so each call sets its position and runs to completion before another starts.
 * Past rows never change (a version valid at P stays so), so a query racing the live writer
 * on another connection still reads a stable past.
 */
export function openTimeTravel(opts: TimeTravelOptions): TimeTravel {
  if (opts.path === ':memory:' || opts.path === '') throw new Error('time travel needs the read models in a file: a second connection cannot see an in-memory database');
  const db = openSqliteDatabase(opts.path);
  try {
    const setPosition = shadowWithPast(db, opts.projections ?? allProjections);
    const models = createReadModels(db);
    const pinned = new Map<number, ReadModels>();
    return {
      at(position) {
        if (!Number.isSafeInteger(position) || position < 0)
          throw new ValidationFailed('an as-of position is a whole number, 0 or more', { field: 'asOf' });
        let bound = pinned.get(position);
        if (!bound) {
          bound = bindReadModels(models, () => setPosition(position));
          // A handful of positions in use at once is typical (a page and its next page).
          if (pinned.size >= 32) pinned.delete(pinned.keys().next().value!);
          pinned.set(position, bound);
        }
        return bound;
      },
      close() {
        if (db.open) db.close();
      },
    };
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Turns `db` into an as-of connection: every read-model table of `projections` is shadowed by
 * a TEMP VIEW of its state at the position last given to the returned setter.
 */
export function shadowWithPast(db: SqliteDatabase, projections: readonly ProjectionDefinition[]): (position: number) => void {
  let asOf = 0;
  // Deterministic: evaluated once per statement, so a range on it can use an index.
  db.function('chronicle_as_of', { deterministic: true }, () => asOf);
  registerMetricViewSupport(db);
  createAsOfViews(db, projections.flatMap((p) => p.tables));
  return (position) => {
    asOf = position;
  };
}

/**
 * Wraps every query function so that it first sets the position, and so do the functions a
 * result carries (a page's lazy totalCount), which may run after another as-of query.
 */
function bindReadModels(models: ReadModels, enter: () => void): ReadModels {
  const wrap = <F extends (...args: never[]) => unknown>(fn: F, self: unknown) =>
    ((...args: Parameters<F>) => {
      enter();
      return mapResultFunctions(fn.apply(self, args), (f) => (...a) => {
        enter();
        return f(...a);
      });
    }) as F;
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, group] of Object.entries(models as unknown as Record<string, Record<string, unknown>>)) {
    const g: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(group)) g[k] = typeof v === 'function' ? wrap(v as (...args: never[]) => unknown, group) : v;
    out[name] = g;
  }
  return out as unknown as ReadModels;
}


