import type { DomainEvent } from '@chronicle/domain';
import { createSqliteEventStore, type EventStore } from '@chronicle/event-store';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadReproductionRecipe } from '../reproduce/load-recipe.js';
import { verifyLog } from '../verify-log.js';
import { loadAuditReport } from './load-report.js';
import { renderAuditReportMarkdown } from './render-report.js';

let store: EventStore & { db: import('@chronicle/event-store').SqliteDatabase };
const positions: Record<string, number> = {};
let now = 1_000_000;

async function put(stream: string, actor: string, events: DomainEvent[], mark?: string, correlationId?: string) {
  const res = await store.append([{ stream, expectedRevision: 'any', events }], { actor, ...(correlationId ? { correlationId } : {}) });
  if (mark) positions[mark] = res.lastPosition;
}

beforeAll(async () => {
  store = createSqliteEventStore({ path: ':memory:', clock: () => (now += 1000) }) as typeof store;
  await put('dataset-points', 'user:dana', [
    { type: 'DatasetCreated', data: { name: 'points', description: '', at: 1 } },
    { type: 'DatasetVersionCommitted', data: { name: 'points', version: 1, versionId: 'points@1', parentVersion: null, manifestSha256: 'b'.repeat(64), fileCount: 1, totalBytes: 10, tabular: [], message: 'first', author: 'dana', tags: [], at: 1 } },
  ]);
  await put('run-r1', 'user:ada', [
    { type: 'RunStarted', data: { runId: 'r1', experimentId: '0', name: 'train', tags: [], parentRunId: null, source: { gitCommit: 'abc', command: ['node', 'train.mjs'] }, environment: { runtime: { node: 'v20' } }, startTime: 5 } },
    { type: 'RunParamsLogged', data: { runId: 'r1', params: [{ key: 'seed', value: '1' }] } },
    { type: 'RunMetricsLogged', data: { runId: 'r1', series: [{ key: 'acc', steps: [1], values: [0.93], timestamps: [1] }] } },
    { type: 'RunFinished', data: { runId: 'r1', status: 'FINISHED', endTime: 9 } },
  ]);
  await put('runio-r1', 'user:ada', [{ type: 'RunInputsDeclared', data: { runId: 'r1', inputs: [{ datasetName: 'points', versionId: 'points@1', versionNumber: 1, role: 'train' }], at: 6 } }], 'trained');
  await put('model-churn', 'user:max', [
    { type: 'ModelRegistered', data: { name: 'churn', description: 'who leaves', tags: [], card: {}, at: 1 } },
    { type: 'ModelVersionCreated', data: { name: 'churn', version: 1, runId: 'r1', artifactPath: 'model.bin', sha256: 'c'.repeat(64), size: 3, format: null, signature: null, description: '', at: 2 } },
    { type: 'PromotionGatesSet', data: { name: 'churn', target: 'champion', version: 1, metricRules: ['metrics.acc >= 0.9'], requiredInputs: [], approval: { count: 1, minRole: 'maintainer' }, at: 3 } },
  ]);
  await put('model-churn', 'user:max', [{ type: 'ModelPromotionRefused', data: { name: 'churn', version: 1, target: 'champion', actor: 'user:mel', gatesVersion: 1, holderVersion: null, failures: [{ kind: 'approval', rule: 'approvals', passed: false, message: '0 of 1 approvals', left: 0, right: 1 }], at: 4 } }]);
  await put('model-churn', 'user:mia', [{ type: 'ModelVersionApproved', data: { name: 'churn', version: 1, target: 'champion', username: 'mia', role: 'maintainer', comment: 'looks good', at: 5 } }], 'approved');
  await put(
    'model-churn',
    'user:max',
    [
      { type: 'ModelPromotionGatesPassed', data: { name: 'churn', version: 1, target: 'champion', gatesVersion: 1, holderVersion: null, checks: [{ kind: 'metric', rule: 'metrics.acc >= 0.9', passed: true, message: '0.93 >= 0.9', left: 0.93, right: 0.9 }], at: 6 } },
      { type: 'ModelAliasSet', data: { name: 'churn', alias: 'champion', version: 1, previousVersion: null, at: 6 } },
    ],
    'promoted',
    'req-promote',
  );
  await put('environment-prod', 'user:ops', [{ type: 'EnvironmentCreated', data: { name: 'prod', target: { kind: 'command', argv: ['true'], timeoutMs: 1000 }, healthCheck: null, at: 1 } }]);
  await put('environment-prod', 'user:ops', [
    { type: 'DeploymentRequested', data: { environment: 'prod', deploymentId: 'd1', model: 'churn', version: 1, sha256: 'c'.repeat(64), artifactPath: 'model.bin', reason: 'launch', rollbackOf: null, restores: null, at: 7 } },
    { type: 'DeploymentStarted', data: { environment: 'prod', deploymentId: 'd1', at: 7 } },
    { type: 'DeploymentSucceeded', data: { environment: 'prod', deploymentId: 'd1', at: 8 } },
  ], 'deployed');
  await put('environment-prod', 'user:ops', [
    { type: 'DeploymentRequested', data: { environment: 'prod', deploymentId: 'd2', model: 'churn', version: 2, sha256: 'd'.repeat(64), artifactPath: 'model.bin', reason: 'v2', rollbackOf: null, restores: null, at: 9 } },
    { type: 'DeploymentSucceeded', data: { environment: 'prod', deploymentId: 'd2', at: 9 } },
  ]);
  await put('environment-prod', 'system:deployer', [
    { type: 'DeploymentRequested', data: { environment: 'prod', deploymentId: 'd3', model: 'churn', version: 1, sha256: 'c'.repeat(64), artifactPath: 'model.bin', reason: 'auto-rollback', rollbackOf: 'd2', restores: 'd1', at: 10 } },
    { type: 'DeploymentSucceeded', data: { environment: 'prod', deploymentId: 'd3', at: 10 } },
  ]);
  await put('model-churn', 'user:max', [{ type: 'ModelAliasSet', data: { name: 'churn', alias: 'champion', version: 2, previousVersion: 1, at: 11 } }]);
  await put('run-r1', 'user:ada', [{ type: 'RunParamsLogged', data: { runId: 'r1', params: [{ key: 'late', value: 'yes' }] } }]);
  await put('dataset-points', 'user:dana', [{ type: 'DatasetVersionDeprecated', data: { name: 'points', version: 1, reason: 'leaked labels', at: 12 } }]);
});

const report = (opts: Partial<Parameters<typeof loadAuditReport>[3]> = {}) =>
  loadAuditReport(store, 'churn', 1, { environments: ['prod', 'staging'], verify: () => verifyLog(store), now: 42, ...opts });

describe('the audit report of a model version, read from the log', () => {
  it('tells what trained it, on which data, who approved, promoted, refused, deployed and rolled back', async () => {
    const r = await report();
    expect(r.training).toMatchObject({ runId: 'r1', started: { actor: 'user:ada' }, params: [{ key: 'late', value: 'yes' }, { key: 'seed', value: '1' }], metrics: [{ key: 'acc', value: 0.93, step: 1 }] });
    expect(r.data).toMatchObject([{ versionId: 'points@1', role: 'train', manifestSha256: 'b'.repeat(64), committed: { actor: 'user:dana' }, deprecated: true, deprecationReason: 'leaked labels' }]);
    expect(r.version).toMatchObject({ created: { actor: 'user:max' }, sha256: 'c'.repeat(64), aliases: [], stage: 'None' });
    expect(r.approvals).toMatchObject([{ username: 'mia', target: 'champion', comment: 'looks good', actor: 'user:mia' }]);
    expect(r.refusals).toMatchObject([{ actor: 'user:mel', target: 'champion', gatesVersion: 1, failures: [{ message: '0 of 1 approvals' }] }]);
    expect(r.promotions.map((p) => [p.direction, p.action, p.target, p.from, p.to, p.gate?.gatesVersion ?? null])).toEqual([
      ['promotion', 'alias_set', 'champion', null, 'version 1', 1],
      ['demotion', 'alias_moved_away', 'champion', 'version 1', 'version 2', null],
    ]);
    expect(r.gates).toMatchObject([{ target: 'champion', version: 1, metricRules: ['metrics.acc >= 0.9'] }]);
    expect(r.deployments.map((d) => [d.deploymentId, d.status, d.liveFrom !== null, d.replacedBy, d.rollbackOf, d.rolledBackBy?.deploymentId ?? null])).toEqual([
      ['d1', 'succeeded', true, 'd2', null, null],
      ['d3', 'succeeded', true, null, 'd2', null],
    ]);
    expect(r.integrity).toMatchObject({ verified: true, ok: true, logOk: true, otherBreaks: 0 });
    expect(r.integrity.streams.map((s) => s.stream)).toEqual(['dataset-points', 'environment-prod', 'model-churn', 'run-r1', 'runio-r1']);
    expect(r.timeline.map((t) => t.position)).toEqual([...r.timeline.map((t) => t.position)].sort((a, b) => a - b));
  });

  it('answers as of a past position: before the promotion, nothing was promoted or deployed, and the data was not yet deprecated', async () => {
    const r = await report({ asOf: { position: positions['approved']! } });
    expect(r.asOf).toMatchObject({ position: positions['approved'], latest: false });
    expect(r.promotions).toEqual([]);
    expect(r.deployments).toEqual([]);
    expect(r.approvals).toHaveLength(1);
    expect(r.data[0]!.deprecated).toBe(false);
    expect(r.training!.params.map((p) => p.key)).toEqual(['seed']);
  });

  it('marks a tampered stream it relies on as broken', async () => {
    const before = (await report()).integrity.ok;
    store.db.prepare("UPDATE events SET data = replace(data, 'looks good', 'looks bad') WHERE stream = 'model-churn' AND type = 'ModelVersionApproved'").run();
    const r = await report();
    store.db.prepare("UPDATE events SET data = replace(data, 'looks bad', 'looks good') WHERE stream = 'model-churn' AND type = 'ModelVersionApproved'").run();
    expect(before).toBe(true);
    expect(r.integrity.ok).toBe(false);
    expect(r.integrity.streams.find((s) => s.stream === 'model-churn')!.breaks[0]).toMatchObject({ kind: 'hash_mismatch', stream: 'model-churn' });
    expect(renderAuditReportMarkdown(r)).toContain('**Integrity: BROKEN.**');
  });

  it('refuses unknown models and versions, and versions that did not exist yet', async () => {
    await expect(loadAuditReport(store, 'nope', 1, { environments: [], now: 0 })).rejects.toThrow('model nope does not exist');
    await expect(loadAuditReport(store, 'churn', 7, { environments: [], now: 0 })).rejects.toThrow('model churn has no version 7');
    await expect(loadAuditReport(store, 'churn', 1, { environments: [], now: 0, asOf: { position: 2 } })).rejects.toThrow('model churn does not exist at position 2');
    await expect(loadAuditReport(store, 'churn', 0, { environments: [], now: 0 })).rejects.toThrow(/whole number/);
  });

  it('renders Markdown an auditor can read, and says when integrity was not verified', async () => {
    const md = renderAuditReportMarkdown(await report({ verify: null }));
    for (const h of ['## Summary', '## What trained it', '## On which data', '## Approvals', '## Promotions and demotions', '## Refused promotions', '## Promotion gates', '## Where it was deployed', '## Integrity', '## Timeline', '## Gaps in the record'])
      expect(md).toContain(h);
    expect(md).toContain('**Integrity: not verified.**');
    expect(md).toContain('rolls back d2');
  });
});

describe('the reproduction recipe, read from the log', () => {
  it('leaves out what happened after the as-of position', async () => {
    const past = await loadReproductionRecipe(store, 'r1', { position: positions['trained']! });
    const present = await loadReproductionRecipe(store, 'r1');
    expect(past.params.map((p) => p.key)).toEqual(['seed']);
    expect(present.params.map((p) => p.key)).toEqual(['late', 'seed']);
    expect(past.datasets[0]!.deprecated).toBe(false);
    expect(present.datasets[0]!.deprecated).toBe(true);
    expect(present.asOf.latest).toBe(true);
  });
  it('says a run did not exist yet, or does not exist', async () => {
    await expect(loadReproductionRecipe(store, 'r1', { position: 1 })).rejects.toThrow('run r1 did not exist yet at position 1');
    await expect(loadReproductionRecipe(store, 'ghost')).rejects.toThrow('run ghost does not exist');
  });
});

describe('a model whose name was deleted and registered again', () => {
  it('reports on the model that holds the name now', async () => {
    await put('model-reborn', 'user:max', [
      { type: 'ModelRegistered', data: { name: 'reborn', description: 'first life', tags: [], card: {}, at: 1 } },
      { type: 'ModelVersionCreated', data: { name: 'reborn', version: 1, runId: 'r1', artifactPath: 'a.bin', sha256: 'e'.repeat(64), size: 1, format: null, signature: null, description: 'old', at: 2 } },
      { type: 'ModelDeleted', data: { name: 'reborn', at: 3 } },
    ], 'reborn-deleted');
    await expect(loadAuditReport(store, 'reborn', 1, { environments: [], now: 0 })).rejects.toThrow('model reborn was deleted');
    const past = await loadAuditReport(store, 'reborn', 1, { environments: [], now: 0, asOf: { position: positions['reborn-deleted']! - 1 } });
    expect(past.version.description).toBe('old');
    await put('model-reborn', 'user:max', [
      { type: 'ModelRegistered', data: { name: 'reborn', description: 'second life', tags: [], card: {}, at: 4 } },
      { type: 'ModelVersionCreated', data: { name: 'reborn', version: 1, runId: 'r1', artifactPath: 'b.bin', sha256: 'f'.repeat(64), size: 1, format: null, signature: null, description: 'new', at: 5 } },
    ]);
    const now = await loadAuditReport(store, 'reborn', 1, { environments: [], now: 0 });
    expect([now.model.description, now.version.description, now.version.artifactPath]).toEqual(['second life', 'new', 'b.bin']);
  });
});
