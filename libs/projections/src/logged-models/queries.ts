import type { KeyValue, LoggedModelStatus } from '@chronicle/domain';
import type { SqliteDatabase } from '@chronicle/event-store';

export interface LoggedModelView {
  modelId: string;
  experimentId: string;
  name: string;
  modelType: string;
  sourceRunId: string | null;
  filesRunId: string;
  artifactPath: string;
  status: LoggedModelStatus;
  deleted: boolean;
  params: KeyValue[];
  tags: KeyValue[];
  createdAt: number;
  updatedAt: number;
  createdBy: string;
}

interface Row {
  model_id: string;
  experiment_id: string;
  name: string;
  model_type: string;
  source_run_id: string | null;
  files_run_id: string;
  artifact_path: string;
  status: LoggedModelStatus;
  deleted: number;
  params: string;
  tags: string;
  created_at: number;
  updated_at: number;
  created_by: string;
}

const toView = (r: Row): LoggedModelView => ({
  modelId: r.model_id,
  experimentId: r.experiment_id,
  name: r.name,
  modelType: r.model_type,
  sourceRunId: r.source_run_id,
  filesRunId: r.files_run_id,
  artifactPath: r.artifact_path,
  status: r.status,
  deleted: r.deleted === 1,
  params: JSON.parse(r.params) as KeyValue[],
  tags: JSON.parse(r.tags) as KeyValue[],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  createdBy: r.created_by,
});

/** One condition of a logged-model search; all must hold. */
export type LoggedModelCondition =
  | { field: 'name' | 'model_id' | 'source_run_id' | 'status' | 'model_type'; op: '=' | '!=' | 'LIKE' | 'ILIKE'; value: string }
  | { field: 'tag' | 'param'; key: string; op: '=' | '!='; value: string };

export function loggedModelQueries(db: SqliteDatabase) {
  const one = db.prepare<[string], Row>('SELECT * FROM rm_logged_models WHERE model_id = ?');
  const outputs = db.prepare<[string], { model_id: string; step: number }>('SELECT model_id, step FROM rm_logged_model_outputs WHERE run_id = ? ORDER BY step, model_id');
  return {
    get: (modelId: string) => {
      const r = one.get(modelId);
      return r ? toView(r) : null;
    },
    /** The logged models a run declared as outputs, with the step of each. */
    outputsOf: (runId: string) => outputs.all(runId).map((o) => ({ modelId: o.model_id, step: o.step })),
    /** Live models of the experiments matching every condition, newest first unless ordered otherwise. */
    search(opts: {
      experimentIds: readonly string[];
      conditions: readonly LoggedModelCondition[];
      orderBy: readonly { field: 'name' | 'created_at' | 'updated_at' | 'model_id'; descending: boolean }[];
      limit: number;
      offset: number;
    }): LoggedModelView[] {
      const where = ['deleted = 0', `experiment_id IN (${opts.experimentIds.map(() => '?').join(', ') || 'NULL'})`];
      const params: unknown[] = [...opts.experimentIds];
      for (const c of opts.conditions) {
        if (c.field === 'tag' || c.field === 'param') {
          const col = c.field === 'tag' ? 'tags' : 'params';
          where.push(`(SELECT json_extract(t.value, '$.value') FROM json_each(rm_logged_models.${col}) t WHERE json_extract(t.value, '$.key') = ?) ${c.op} ?`);
          params.push(c.key, c.value);
        } else if (c.op === 'ILIKE') {
          where.push(`lower(${c.field}) LIKE lower(?)`);
          params.push(c.value);
        } else {
          where.push(`${c.field} ${c.op} ?`);
          params.push(c.value);
        }
      }
      const order = [...opts.orderBy.map((o) => `${o.field} ${o.descending ? 'DESC' : 'ASC'}`), 'created_at DESC', 'model_id'];
      return db
        .prepare<unknown[], Row>(`SELECT * FROM rm_logged_models WHERE ${where.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`)
        .all(...params, opts.limit, opts.offset)
        .map(toView);
    },
  };
}
