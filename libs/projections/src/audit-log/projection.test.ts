import { createSqliteEventStore } from '@chronicle/event-store';
import { describe, expect, it } from 'vitest';
import { ProjectionRunner } from '../runner/projection-runner.js';
import { entityOfStream, streamOfEntity } from './entity.js';
import { auditLogProjection } from './projection.js';
import { auditLogQueries } from './queries.js';
import { MAX_SUMMARY_CHARS, summarise } from './summary.js';

async function projected() {
  let now = 1000;
  const store = createSqliteEventStore({ path: ':memory:', clock: () => now++ });
  const runner = new ProjectionRunner({ store, db: store.db, projections: [auditLogProjection] });
  const series = [{ key: 'loss', steps: [1, 2, 3], values: [0.3, 0.2, 0.1], timestamps: [1, 2, 3] }];
  await store.append([{ stream: 'run-r1', expectedRevision: 'no_stream', events: [{ type: 'RunStarted', data: { runId: 'r1' } }] }], {
    actor: 'user:ada',
    correlationId: 'c1',
  });
  await store.append([{ stream: 'run-r1', expectedRevision: 0, events: [{ type: 'RunMetricsLogged', data: { runId: 'r1', series } }] }], {
    actor: 'user:bob',
    correlationId: 'c2',
    causationId: 'cause-2',
  });
  await store.append(
    [
      { stream: 'experiment-7', expectedRevision: 'no_stream', events: [{ type: 'ExperimentCreated', data: { experimentId: '7' } }] },
      { stream: 'experiment-name-churn', expectedRevision: 'no_stream', events: [{ type: 'ExperimentNameClaimed', data: { name: 'churn' } }] },
    ],
    { actor: 'user:ada', correlationId: 'c3' },
  );
  await store.append([{ stream: 'token-t1', expectedRevision: 'no_stream', events: [{ type: 'TokenIssued', data: { tokenId: 't1', secretHash: 'abc' } }] }], {
    actor: 'user:admin',
  });
  await store.append([{ stream: 'run-r1', expectedRevision: 1, events: [{ type: 'RunTagsSet', data: { runId: 'r1', note: 'x'.repeat(MAX_SUMMARY_CHARS) } }] }], {
    actor: 'user:ada',
  });
  await runner.catchUp();
  return auditLogQueries(store.db);
}

describe('audit-log.v1', () => {
  it('names the entity of every stream, keeping unknown prefixes', () => {
    expect(entityOfStream('run-abc-1')).toEqual({ kind: 'run', id: 'abc-1' });
    expect(entityOfStream('experiment-name-my-exp')).toEqual({ kind: 'experiment-name', id: 'my-exp' });
    expect(entityOfStream('experiment-0')).toEqual({ kind: 'experiment', id: '0' });
    expect(entityOfStream('model-resnet')).toEqual({ kind: 'model', id: 'resnet' });
    expect(entityOfStream('plain')).toEqual({ kind: 'plain', id: '' });
    expect(streamOfEntity('run:abc')).toBe('run-abc');
    expect(streamOfEntity('experiment-name:churn')).toBe('experiment-name-churn');
    expect(streamOfEntity('user-ada')).toBe('user-ada');
  });

  it('gives the history of one entity in order, with who, when and which request', async () => {
    const audit = await projected();
    const page = audit.history('run-r1', { first: 10 });
    expect(page.nodes.map((e) => [e.position, e.type, e.actor, e.correlationId, e.causationId, e.entityKind, e.entityId])).toEqual([
      [1, 'RunStarted', 'user:ada', 'c1', null, 'run', 'r1'],
      [2, 'RunMetricsLogged', 'user:bob', 'c2', 'cause-2', 'run', 'r1'],
      [6, 'RunTagsSet', 'user:ada', expect.any(String), null, 'run', 'r1'],
    ]);
    expect(page.nodes[0]!.recordedAt).toBe(1000);
    expect(page.hasNextPage).toBe(false);
  });

  it('summarises metric batches and big events, and hides token secrets', async () => {
    const audit = await projected();
    const [, metrics, tags] = audit.history('run-r1', {}).nodes;
    expect(metrics!.summary).toEqual({ runId: 'r1', series: [{ key: 'loss', points: 3 }] });
    // Stored data is canonical JSON, so keys come back sorted whichever way they were written.
    expect(tags!.summary).toEqual({ truncated: true, chars: expect.any(Number), keys: ['note', 'runId'] });
    expect(audit.history('token-t1', {}).nodes[0]!.summary).toEqual({ tokenId: 't1', secretHash: '[redacted]' });
  });

  it('hides webhook and deployment-target signing secrets', () => {
    const event = { type: 'WebhookCreated', data: { webhookId: 'w1', url: 'http://x', secret: 's3cr3t', target: { secret: 'also' } } };
    const text = summarise(event as never);
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('also');
    expect(JSON.parse(text)).toMatchObject({ webhookId: 'w1', secret: '[redacted]' });
  });

  it('pages with a cursor that keeps its place', async () => {
    const audit = await projected();
    const first = audit.log({}, { first: 2 });
    expect(first.nodes.map((e) => e.position)).toEqual([1, 2]);
    expect(first.hasNextPage).toBe(true);
    const second = audit.log({}, { first: 2, after: first.endCursor });
    expect(second.nodes.map((e) => e.position)).toEqual([3, 4]);
    expect(() => audit.log({}, { after: audit.history('run-r1', { first: 1 }).endCursor })).toThrow(/cursor/);
  });

  it('filters the log by actor, entity kind, event types and time', async () => {
    const audit = await projected();
    const positions = (f: Parameters<typeof audit.log>[0]) => audit.log(f, {}).nodes.map((e) => e.position);
    expect(positions({ actor: 'user:ada' })).toEqual([1, 3, 4, 6]);
    expect(positions({ entityKind: 'experiment-name' })).toEqual([4]);
    expect(positions({ eventTypes: ['RunStarted', 'TokenIssued'] })).toEqual([1, 5]);
    expect(positions({ actor: 'user:ada', eventTypes: ['RunTagsSet'] })).toEqual([6]);
    // Times are [from, to): events 3 and 4 share one append and one timestamp.
    expect(positions({ from: 1001, to: 1003 })).toEqual([2, 3, 4]);
    expect([...audit.scan({ actor: 'user:ada' }, 3)].map((b) => b.map((e) => e.position))).toEqual([[1, 3, 4], [6]]);
  });
});
