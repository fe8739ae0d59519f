import type { KeyValue } from '@chronicle/domain';
import type { SqliteDatabase } from '@chronicle/event-store';

export interface ExperimentView {
  experimentId: string;
  name: string;
  description: string;
  lifecycle: 'active' | 'deleted';
  createdAt: number;
  updatedAt: number;
  createdBy: string;
}

interface Row {
  experiment_id: string;
  name: string;
  description: string;
  lifecycle: 'active' | 'deleted';
  created_at: number;
  updated_at: number;
  created_by: string;
}

const toView = (r: Row): ExperimentView => ({
  experimentId: r.experiment_id,
  name: r.name,
  description: r.description,
  lifecycle: r.lifecycle,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  createdBy: r.created_by,
});

export type Lifecycle = 'active' | 'deleted' | 'all';

export function experimentQueries(db: SqliteDatabase) {
  const byId = db.prepare<[string], Row>('SELECT * FROM rm_experiments WHERE experiment_id = ?');
  const byName = db.prepare<[string], Row>('SELECT * FROM rm_experiments WHERE name = ?');
  const list = db.prepare<[string, string, string], Row>(
    `SELECT * FROM rm_experiments WHERE (? = 'all' OR lifecycle = ?) AND name LIKE ? ESCAPE '\\' ORDER BY created_at, experiment_id`,
  );
  const tags = db.prepare<[string], KeyValue>('SELECT key, value FROM rm_experiment_tags WHERE experiment_id = ? ORDER BY key');
  const runCount = db.prepare<[string], { n: number }>(
    "SELECT count(*) AS n FROM rm_runs WHERE experiment_id = ? AND lifecycle = 'active'",
  );
  return {
    get: (id: string) => {
      const r = byId.get(id);
      return r ? toView(r) : null;
    },
    getByName: (name: string) => {
      const r = byName.get(name);
      return r ? toView(r) : null;
    },
    list: (opts: { lifecycle?: Lifecycle; nameContains?: string } = {}) => {
      const lc = opts.lifecycle ?? 'active';
      const pattern = `%${(opts.nameContains ?? '').replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      return list.all(lc, lc, pattern).map(toView);
    },
    tags: (id: string) => tags.all(id),
    activeRunCount: (id: string) => runCount.get(id)?.n ?? 0,
  };
}
