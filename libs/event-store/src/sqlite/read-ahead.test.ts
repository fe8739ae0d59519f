import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainEvent, RecordedEvent } from '@chronicle/domain';
import { afterAll, describe, expect, it } from 'vitest';
import { UpcasterRegistry } from '../upcasting/upcaster-registry.js';
import { readAheadOnWorker } from './read-ahead.js';
import { createSqliteEventStore } from './sqlite-event-store.js';

const dir = mkdtempSync(join(tmpdir(), 'chronicle-read-ahead-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const metrics = (runId: string, series: unknown[]): DomainEvent => ({ type: 'RunMetricsLogged', data: { runId, series } });
const series = (key: string, steps: number[], values: unknown[] = steps.map((s) => s / 10)) => ({ key, steps, values, timestamps: steps.map((s) => 1_700_000_000_000 + s) });

/** A log with every kind of event the reader treats apart, written at v1 of RunMetricsLogged. */
async function writeLog(path: string): Promise<void> {
  const store = createSqliteEventStore({ path });
  const events: DomainEvent[] = [
    { type: 'RunStarted', data: { runId: 'r1', name: 'a', tags: [] } },
    metrics('r1', [series('loss', [0, 1, 2]), series('acc', [0, 1, 2], [0.5, -0, 1e-300])]),
    metrics('r1', [series('loss', [3], ['NaN']), series('lr', [])]),
    { type: 'RunParamsLogged', data: { runId: 'r1', params: [{ key: 'p', value: '1' }] } },
    metrics('r1', [{ ...series('loss', [4]), extra: true }]),
    { type: 'RunMetricsLogged', data: { runId: 'r1', series: [series('loss', [5])], note: 'unknown field' } },
    metrics('r1', [series('big', Array.from({ length: 5000 }, (_, i) => i))]),
    { type: 'RunFinished', data: { runId: 'r1', status: 'FINISHED' } },
  ];
  await store.append([{ stream: 'run-r1', expectedRevision: 'no_stream', events }], { actor: 'user:a', correlationId: 'c' });
  await store.close();
}

async function readAllThrough(read: (after: number, limit: number) => Promise<RecordedEvent[] | null>, limit: number): Promise<RecordedEvent[][]> {
  const batches: RecordedEvent[][] = [];
  for (let after = 0; ; ) {
    const batch = await read(after, limit);
    if (!batch || batch.length === 0) return batches;
    batches.push(batch);
    after = batch[batch.length - 1]!.position;
  }
}

describe('readAhead (SQLite)', () => {
  it('gives the batches readAll gives, packed metric batches and JSON ones alike', async () => {
    const path = join(dir, 'log.db');
    await writeLog(path);
    const store = createSqliteEventStore({ path });
    const head = await store.headPosition();
    const ahead = store.readAhead!({ after: 0, until: head, batchSize: 3 });
    const viaThread = await readAllThrough((after, limit) => ahead.read(after, limit), 3);
    const direct = await readAllThrough(async (after, limit) => store.readAll({ after, limit }), 3);
    expect(viaThread.flat()).toHaveLength(head);
    // toEqual tells -0 from 0: the numbers cross the thread bit for bit.
    expect(viaThread).toEqual(direct);
    // Key order too, of the envelope and of the data at every depth.
    expect(viaThread.flat().map((e) => JSON.stringify(e))).toEqual(direct.flat().map((e) => JSON.stringify(e)));
    // Past `until`, and for any batch it did not read ahead, the reader answers null.
    expect(await ahead.read(head, 3)).toBeNull();
    await ahead.close();
    await store.close();
  });

  it('stops at `until`, refuses a batch out of sequence, and leaves old versions to the upcasters', async () => {
    const path = join(dir, 'versions.db');
    await writeLog(path);
    const upcasters = new UpcasterRegistry([{ type: 'RunMetricsLogged', fromVersion: 1, upcast: (d) => ({ ...d, upcast: true }) }]);
    const store = createSqliteEventStore({ path, upcasters });
    const ahead = store.readAhead!({ after: 0, until: 5, batchSize: 2 });
    expect(await ahead.read(1, 2)).toBeNull();
    const batches = await readAllThrough((after, limit) => ahead.read(after, limit), 2);
    expect(batches.flat().map((e) => e.position)).toEqual([1, 2, 3, 4, 5]);
    const upcast = batches.flat().filter((e) => e.type === 'RunMetricsLogged');
    expect(upcast.map((e) => [e.schemaVersion, (e.data as { upcast?: boolean }).upcast])).toEqual([
      [2, true],
      [2, true],
      [2, true],
    ]);
    expect(batches.flat()).toEqual((await store.readAll({ after: 0, limit: 5 })));
    await ahead.close();
    await store.close();
  });

  it('fails the read, not the process, when the thread cannot read the log', async () => {
    const ahead = readAheadOnWorker({ path: join(dir, 'missing', 'log.db'), after: 0, until: 10, batchSize: 2, upcasters: new UpcasterRegistry([]) });
    await expect(ahead.read(0, 2)).rejects.toThrow(/unable to open|directory does not exist|cannot open/i);
    await ahead.close();
  });

  it('is only offered for a file: another thread cannot open an in-memory database', () => {
    expect(createSqliteEventStore({ path: ':memory:' }).readAhead).toBeUndefined();
  });
});
