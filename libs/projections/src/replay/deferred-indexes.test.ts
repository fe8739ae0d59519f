import { createSqliteEventStore, openSqliteDatabase } from '@chronicle/event-store';
import { describe, expect, it } from 'vitest';
import { allProjections } from '../read-models.js';
import { ProjectionRunner } from '../runner/projection-runner.js';
import { createDeferredIndexes, dropDeferrableIndexes } from './deferred-indexes.js';

const indexes = (db: ReturnType<typeof openSqliteDatabase>) =>
  db.prepare<[], { name: string; sql: string | null }>("SELECT name, sql FROM sqlite_schema WHERE type = 'index' ORDER BY name").all();

describe('deferred indexes', () => {
  it('leave out only write-only, non-unique indexes, and come back as they were', () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    const db = openSqliteDatabase(':memory:');
    new ProjectionRunner({ store, db, projections: allProjections });
    const before = indexes(db);

    const deferred = dropDeferrableIndexes(db, allProjections.flatMap((p) => p.tables));
    const names = deferred.map((i) => i.name);
    expect(names).toContain('rm_audit_log_stream');
    expect(names).toContain('rm_run_params_kv');
    expect(names).toContain('rm_run_tags__versions__rm_run_tags_kv');
    // Read by projections while applying, or deciding what an insert does: kept.
    expect(names).not.toContain('rm_runs_experiment');
    expect(names).not.toContain('rm_run_params__versions_open');
    expect(names).not.toContain('rm_experiments_name');
    expect(names.every((n) => !before.find((i) => i.name === n)!.sql!.includes('UNIQUE'))).toBe(true);
    expect(indexes(db).length).toBe(before.length - deferred.length);

    createDeferredIndexes(db, deferred);
    expect(indexes(db)).toEqual(before);
  });
});
