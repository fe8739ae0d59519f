import { createSqliteEventStore } from '@chronicle/event-store';
import { describe, expect, it } from 'vitest';
import { ProjectionRunner } from '../runner/projection-runner.js';
import { reproductionsProjection } from './projection.js';
import { reproductionQueries } from './queries.js';

const started = (runId: string, reproductionOf?: string) => ({
  type: 'RunStarted',
  data: { runId, experimentId: '0', name: '', tags: [], parentRunId: null, source: {}, environment: {}, startTime: 1, ...(reproductionOf ? { reproductionOf } : {}) },
});

describe('reproductions.v1', () => {
  it('links a reproduction to its original both ways, and answers as of a position', async () => {
    let now = 1000;
    const store = createSqliteEventStore({ path: ':memory:', clock: () => now++ });
    const runner = new ProjectionRunner({ store, db: store.db, projections: [reproductionsProjection] });
    for (const [runId, of] of [['orig', undefined], ['other', undefined], ['rep1', 'orig'], ['rep2', 'orig']] as const)
      await store.append([{ stream: `run-${runId}`, expectedRevision: 'no_stream', events: [started(runId, of)] }], { actor: 'user:ada' });
    await runner.catchUp();
    const q = reproductionQueries(store.db);
    expect(q.reproductionsOf('orig').map((r) => r.runId)).toEqual(['rep1', 'rep2']);
    expect(q.originalOf('rep2')).toMatchObject({ runId: 'rep2', originalRunId: 'orig', position: 4 });
    expect(q.originalOf('orig')).toBeNull();
    expect(q.reproductionsOf('other')).toEqual([]);
    // Position 3 is rep1's start: rep2 did not exist yet.
    expect(q.reproductionsOf('orig', 3).map((r) => r.runId)).toEqual(['rep1']);
    expect(q.originalOf('rep2', 3)).toBeNull();
  });
});
