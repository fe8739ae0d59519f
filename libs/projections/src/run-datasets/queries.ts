import type { KeyValue } from '@chronicle/domain';
import type { SqliteDatabase } from '@chronicle/event-store';

export interface RunDatasetView {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema: string;
  profile: string;
  tags: KeyValue[];
  loggedAt: number;
}

interface Row {
  run_id: string;
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string;
  profile: string;
  tags: string;
  logged_at: number;
}

const toView = (r: Row): RunDatasetView => ({
  name: r.name,
  digest: r.digest,
  sourceType: r.source_type,
  source: r.source,
  schema: r.schema,
  profile: r.profile,
  tags: JSON.parse(r.tags) as KeyValue[],
  loggedAt: r.logged_at,
});

export function runDatasetQueries(db: SqliteDatabase) {
  const ofRun = db.prepare<[string], Row>('SELECT * FROM rm_run_datasets WHERE run_id = ? ORDER BY ordinal');
  const ofMany = db.prepare<[string], Row>(
    'SELECT * FROM rm_run_datasets WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, ordinal',
  );
  const models = db.prepare<[string], { model_id: string }>(
    'SELECT model_id FROM rm_run_model_inputs WHERE run_id = ? ORDER BY logged_at, model_id',
  );
  const modelsOfMany = db.prepare<[string], { run_id: string; model_id: string }>(
    'SELECT run_id, model_id FROM rm_run_model_inputs WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, logged_at, model_id',
  );
  return {
    list: (runId: string) => ofRun.all(runId).map(toView),
    /** Ids of the logged models the run declared as inputs. */
    modelInputs: (runId: string) => models.all(runId).map((r) => r.model_id),
    modelInputsOfRuns(runIds: readonly string[]): Map<string, string[]> {
      const out = new Map<string, string[]>();
      if (runIds.length === 0) return out;
      for (const r of modelsOfMany.iterate(JSON.stringify(runIds))) {
        let list = out.get(r.run_id);
        if (!list) out.set(r.run_id, (list = []));
        list.push(r.model_id);
      }
      return out;
    },
    /** Datasets of many runs at once, for pages of search results. */
    ofRuns(runIds: readonly string[]): Map<string, RunDatasetView[]> {
      const out = new Map<string, RunDatasetView[]>();
      if (runIds.length === 0) return out;
      for (const r of ofMany.iterate(JSON.stringify(runIds))) {
        let list = out.get(r.run_id);
        if (!list) out.set(r.run_id, (list = []));
        list.push(toView(r));
      }
      return out;
    },
  };
}
