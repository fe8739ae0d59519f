import type { DomainEvent } from '@chronicle/domain';
import { createSqliteEventStore } from '@chronicle/event-store';
import { describe, expect, it } from 'vitest';
import { ProjectionRunner } from '../runner/projection-runner.js';
import { modelsProjection } from './projection.js';
import { modelQueries } from './queries.js';

const version = (name: string, v: number, runId: string, extra: object = {}) => ({
  type: 'ModelVersionCreated',
  data: { name, version: v, runId, artifactPath: 'model', sha256: 'a'.repeat(64), size: 1, format: null, signature: null, description: '', at: 0, ...extra },
});
const registered = (name: string) => ({ type: 'ModelRegistered', data: { name, description: '', tags: [], card: {}, at: 0 } });

async function projected(streams: [string, DomainEvent[]][]) {
  let now = 1000;
  const store = createSqliteEventStore({ path: ':memory:', clock: () => (now += 10) });
  const revisions = new Map<string, number>();
  for (const [stream, events] of streams) {
    const rev = revisions.get(stream) ?? -1;
    await store.append([{ stream, expectedRevision: rev === -1 ? 'no_stream' : rev, events }], { actor: 'user:ada' });
    revisions.set(stream, rev + events.length);
  }
  const runner = new ProjectionRunner({ store, db: store.db, projections: [modelsProjection] });
  await runner.catchUp();
  store.db.pragma('case_sensitive_like = ON');
  return modelQueries(store.db);
}

describe('models.v2', () => {
  it('keeps version source, tags and descriptions, and model tags in key order', async () => {
    const q = await projected([
      ['model-churn', [registered('churn'), version('churn', 1, 'r1', { source: 'runs:/r1/model', tags: [{ key: 'k', value: 'v' }] })]],
      ['model-churn', [{ type: 'ModelTagSet', data: { name: 'churn', key: 'z', value: '1', at: 0 } }]],
      ['model-churn', [{ type: 'ModelTagSet', data: { name: 'churn', key: 'a', value: '2', at: 0 } }]],
      ['model-churn', [{ type: 'ModelTagSet', data: { name: 'churn', key: 'z', value: '3', at: 0 } }]],
      ['model-churn', [{ type: 'ModelVersionTagDeleted', data: { name: 'churn', version: 1, key: 'k', at: 0 } }]],
      ['model-churn', [{ type: 'ModelVersionDescriptionUpdated', data: { name: 'churn', version: 1, description: 'better', at: 0 } }]],
    ]);
    expect(q.get('churn')!.tags).toEqual([
      { key: 'a', value: '2' },
      { key: 'z', value: '3' },
    ]);
    const v = q.version('churn', 1)!;
    expect(v).toMatchObject({ source: 'runs:/r1/model', tags: [], description: 'better' });
    expect(v.updatedAt).toBeGreaterThan(v.createdAt);
  });

  it('renames every row and keeps the alias history; deletion frees the name', async () => {
    const q = await projected([
      ['model-a', [registered('a'), version('a', 1, 'r1'), { type: 'ModelAliasSet', data: { name: 'a', alias: 'champion', version: 1, previousVersion: null, at: 0 } }]],
      ['model-a', [{ type: 'ModelRenamed', data: { name: 'a', newName: 'b', at: 0 } }]],
      ['model-a', [registered('a')]],
      ['model-c', [registered('c'), version('c', 1, 'r2')]],
      ['model-c', [{ type: 'ModelDeleted', data: { name: 'c', at: 0 } }]],
    ]);
    expect(q.get('b')!.latestVersion).toBe(1);
    expect(q.alias('b', 'champion')!.version).toBe(1);
    expect(q.aliasHistory('b', 'champion').map((p) => p.version)).toEqual([1]);
    expect(q.get('a')!.latestVersion).toBe(0);
    expect(q.versions('a')).toEqual([]);
    expect(q.get('c')).toBeNull();
    expect(q.versions('c', { includeDeleted: true })).toEqual([]);
  });

  it('searches models and versions by name, tags, run and number, and pages', async () => {
    const q = await projected([
      ['model-churn-eu', [registered('churn-eu'), { type: 'ModelTagSet', data: { name: 'churn-eu', key: 'team', value: 'risk', at: 0 } }]],
      ['model-churn-us', [registered('churn-us'), version('churn-us', 1, 'r1'), version('churn-us', 2, 'r2')]],
      ['model-fraud', [registered('fraud'), version('fraud', 1, 'r1')]],
      ['model-churn-us', [{ type: 'ModelVersionStageChanged', data: { name: 'churn-us', version: 1, fromStage: 'None', toStage: 'Production', at: 0 } }]],
    ]);
    const page = { orderBy: [], limit: 10, offset: 0 };
    const names = (rows: { name: string }[]) => rows.map((r) => r.name);
    expect(names(q.search({ ...page, conditions: [{ field: 'name', op: 'LIKE', value: 'churn%' }] }))).toEqual(['churn-eu', 'churn-us']);
    expect(names(q.search({ ...page, conditions: [{ field: 'name', op: 'LIKE', value: 'CHURN%' }] }))).toEqual([]);
    expect(names(q.search({ ...page, conditions: [{ field: 'name', op: 'ILIKE', value: 'CHURN%' }] }))).toHaveLength(2);
    expect(names(q.search({ ...page, conditions: [{ field: 'tag', key: 'team', op: '=', value: 'risk' }] }))).toEqual(['churn-eu']);
    // No tag is "not equal" too, as MLflow 3's prompt filter needs.
    expect(names(q.search({ ...page, conditions: [{ field: 'tag', key: 'team', op: '!=', value: 'risk' }] }))).toEqual(['churn-us', 'fraud']);
    expect(names(q.search({ ...page, orderBy: [{ field: 'name', descending: true }], conditions: [], limit: 2, offset: 1 }))).toEqual(['churn-us', 'churn-eu']);

    const versions = (rows: { model: string; version: number }[]) => rows.map((v) => `${v.model}/${v.version}`);
    expect(versions(q.searchVersions({ ...page, conditions: [{ field: 'run_id', op: '=', value: 'r1' }] }))).toEqual(['churn-us/1', 'fraud/1']);
    expect(versions(q.searchVersions({ ...page, conditions: [{ field: 'run_id', op: 'IN', values: ['r2'] }] }))).toEqual(['churn-us/2']);
    expect(versions(q.searchVersions({ ...page, conditions: [{ field: 'version', op: '>', value: 1 }] }))).toEqual(['churn-us/2']);
    expect(q.latestPerStage('churn-us').map((v) => [v.stage, v.version])).toEqual([
      ['None', 2],
      ['Production', 1],
    ]);
  });
});
