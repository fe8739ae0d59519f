import { createCommands } from '@chronicle/commands';
import { createSqliteEventStore, openSqliteDatabase } from '@chronicle/event-store';
import { describe, expect, it } from 'vitest';
import { allProjections, createReadModels } from '../read-models.js';
import type { ProjectionDefinition } from './projection.js';
import { ProjectionRunner } from './projection-runner.js';
import { admin, dump, generateHistory } from './generated-history.test-support.js';

describe('projection runner', () => {
  it('refuses to run without projections (it would re-read the log from 0 forever)', () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    expect(() => new ProjectionRunner({ store, db: store.db, projections: [] })).toThrow(/at least one projection/);
  });

  it('rebuilding from the log gives exactly the read models built incrementally', async () => {
    const { store } = await generateHistory(42);
    const rebuilt = openSqliteDatabase(':memory:');
    const replay = new ProjectionRunner({ store, db: rebuilt, projections: allProjections, batchSize: 5000 });
    await replay.catchUp();
    expect(replay.position).toBe(await store.headPosition());
    const a = dump(store.db);
    const b = dump(rebuilt);
    expect(a['rm_metric_chunks']!.length).toBeGreaterThan(50);
    expect(b).toEqual(a);
  });

  it('resumes from its durable checkpoint instead of starting over', async () => {
    const { store, incremental } = await generateHistory(7);
    await incremental.stop();
    const applied: number[] = [];
    const resumed = new ProjectionRunner({
      store,
      db: store.db,
      projections: allProjections,
      onBatch: (b) => applied.push(b.events),
    });
    await resumed.catchUp();
    expect(applied).toEqual([]);
    expect(resumed.position).toBe(await store.headPosition());
  });

  it('rebuilds a projection whose version changed, dropping its old tables', async () => {
    const { store } = await generateHistory(3);
    const before = createReadModels(store.db).runs.search({ first: 1000 }).nodes.length;
    const bumped = allProjections.map((p) => (p.name === 'runs.v1' ? { ...p, name: 'runs.v2' } : p));
    const runner = new ProjectionRunner({ store, db: store.db, projections: bumped });
    expect(createReadModels(store.db).runs.search({ first: 1000 }).nodes.length).toBe(0);
    await runner.catchUp();
    expect(createReadModels(store.db).runs.search({ first: 1000 }).nodes.length).toBe(before);
  });

  it('flushes each batch before its checkpoint, and discards what a rolled-back batch kept', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    const commands = createCommands({ store });
    for (let i = 0; i < 3; i++) await commands.experiments.create(admin, { name: `e${i}` });
    const head = await store.headPosition();
    expect(head).toBeGreaterThan(3);
    const calls: string[] = [];
    let failOnFlush = true;
    const probe: ProjectionDefinition = {
      name: 'probe.v1',
      tables: [],
      open: (db) => ({
        apply: (e) => void calls.push(`apply ${e.position}`),
        flush: () => {
          const at = db.prepare<[], { position: number }>("SELECT position FROM projection_checkpoints WHERE name = 'probe.v1'").get();
          calls.push(`flush at ${at?.position ?? 0}`);
          if (failOnFlush) throw new Error('flush failed');
        },
        discard: () => void calls.push('discard'),
      }),
    };
    const failing = new ProjectionRunner({ store, db: store.db, projections: [probe], batchSize: 3 });
    await failing.catchUp();
    expect(failing.error).toBeInstanceOf(Error);
    expect(failing.position).toBe(0);
    expect(calls).toEqual(['apply 1', 'apply 2', 'apply 3', 'flush at 0', 'discard']);
    calls.length = 0;
    failOnFlush = false;
    const runner = new ProjectionRunner({ store, db: store.db, projections: [probe], batchSize: 3 });
    await runner.catchUp();
    const expected: string[] = [];
    for (let from = 0; from < head; from += 3) {
      for (let p = from + 1; p <= Math.min(head, from + 3); p++) expected.push(`apply ${p}`);
      expected.push(`flush at ${from}`);
    }
    expect(calls).toEqual(expected);
    expect(runner.position).toBe(head);
  });

  it('answers waitFor only once the position is applied', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    const runner = new ProjectionRunner({ store, db: store.db, projections: allProjections });
    runner.start();
    const commands = createCommands({ store, afterAppend: (p) => runner.waitFor(p) });
    const { experimentId } = await commands.experiments.create(admin, { name: 'visible-at-once' });
    // No explicit catch-up: the command itself waited for the read model.
    expect(createReadModels(store.db).experiments.get(experimentId)?.name).toBe('visible-at-once');
  });
});
