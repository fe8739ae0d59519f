import { ConcurrencyConflict, type DomainEvent } from '@chronicle/domain';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../canonical-json.js';
import { chainHash, GENESIS_HASH } from '../hash-chain.js';
import { appendToStream, type EventStore } from '../port.js';

const ev = (type: string, n: number): DomainEvent => ({ type, data: { n } });
const meta = { actor: 'user:contract' };

/**
 * The behaviour every EventStore adapter owes its callers. Each adapter's test file calls
 * this with a factory that opens a fresh, empty store.
 */
export function eventStoreContract(name: string, open: () => Promise<EventStore>): void {
  describe(`${name} honours the EventStore port`, () => {
    it('appends to a new stream and reads it back with the full envelope', async () => {
      const store = await open();
      // Types without upcasters: a new event is written at version 1.
      const res = await appendToStream(store, 'run-1', [ev('ThingStarted', 1), ev('ThingFinished', 2)], {
        ...meta,
        expectedRevision: 'no_stream',
        correlationId: 'corr-1',
        causationId: 'cause-1',
      });
      expect(res.revisions['run-1']).toBe(1);
      const { events, revision } = await store.readStream('run-1');
      expect(revision).toBe(1);
      expect(events.map((e) => [e.type, e.revision, e.data])).toEqual([
        ['ThingStarted', 0, { n: 1 }],
        ['ThingFinished', 1, { n: 2 }],
      ]);
      const [first] = events;
      expect(first).toMatchObject({
        stream: 'run-1',
        schemaVersion: 1,
        actor: 'user:contract',
        correlationId: 'corr-1',
        causationId: 'cause-1',
      });
      expect(first!.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(first!.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(first!.recordedAt).toBeGreaterThan(0);
      expect(events[1]!.position).toBe(first!.position + 1);
      await store.close();
    });

    it('rejects an append at a stale revision and writes nothing', async () => {
      const store = await open();
      await appendToStream(store, 'run-1', [ev('A', 1)], { ...meta, expectedRevision: 'no_stream' });
      await appendToStream(store, 'run-1', [ev('B', 2)], { ...meta, expectedRevision: 0 });
      await expect(
        appendToStream(store, 'run-1', [ev('C', 3)], { ...meta, expectedRevision: 0 }),
      ).rejects.toBeInstanceOf(ConcurrencyConflict);
      await expect(
        appendToStream(store, 'run-1', [ev('C', 3)], { ...meta, expectedRevision: 'no_stream' }),
      ).rejects.toBeInstanceOf(ConcurrencyConflict);
      expect((await store.readStream('run-1')).events.map((e) => e.type)).toEqual(['A', 'B']);
      await store.close();
    });

    it('lets exactly one of two racing writers win', async () => {
      const store = await open();
      await appendToStream(store, 's', [ev('A', 0)], { ...meta, expectedRevision: 'no_stream' });
      const outcomes = await Promise.allSettled([
        appendToStream(store, 's', [ev('B', 1)], { ...meta, expectedRevision: 0 }),
        appendToStream(store, 's', [ev('C', 2)], { ...meta, expectedRevision: 0 }),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(ConcurrencyConflict);
      expect((await store.readStream('s')).revision).toBe(1);
      await store.close();
    });

    it('appends to several streams atomically', async () => {
      const store = await open();
      await appendToStream(store, 'b', [ev('X', 0)], { ...meta, expectedRevision: 'no_stream' });
      await expect(
        store.append(
          [
            { stream: 'a', expectedRevision: 'no_stream', events: [ev('A', 1)] },
            { stream: 'b', expectedRevision: 'no_stream', events: [ev('B', 1)] },
          ],
          meta,
        ),
      ).rejects.toBeInstanceOf(ConcurrencyConflict);
      expect((await store.readStream('a')).revision).toBe(-1);
      expect(await store.headPosition()).toBe(1);
    });

    it('returns the original outcome for a retried idempotency key and appends nothing', async () => {
      const store = await open();
      const first = await appendToStream(store, 'run-9', [ev('A', 1)], {
        ...meta,
        expectedRevision: 'any',
        idempotencyKey: 'key-1',
        requestHash: 'h1',
        result: { runId: 'run-9' },
      });
      const again = await appendToStream(store, 'run-9', [ev('A', 1)], {
        ...meta,
        expectedRevision: 'any',
        idempotencyKey: 'key-1',
        requestHash: 'h1',
        result: { runId: 'other' },
      });
      expect(again.replayed).toBe(true);
      expect(await store.findReplay({ ...meta, idempotencyKey: 'key-1', requestHash: 'h1' })).toMatchObject({
        replayed: true,
        result: { runId: 'run-9' },
      });
      expect(await store.findReplay({ ...meta, idempotencyKey: 'key-2' })).toBeNull();
      expect(again.result).toEqual({ runId: 'run-9' });
      expect(again.lastPosition).toBe(first.lastPosition);
      expect((await store.readStream('run-9')).events).toHaveLength(1);
      await expect(
        appendToStream(store, 'run-9', [ev('A', 2)], {
          ...meta,
          expectedRevision: 'any',
          idempotencyKey: 'key-1',
          requestHash: 'different',
        }),
      ).rejects.toBeInstanceOf(ConcurrencyConflict);
      await store.close();
    });

    it('orders the global log by position across streams, with no gaps', async () => {
      const store = await open();
      for (let i = 0; i < 20; i++)
        await appendToStream(store, `s-${i % 3}`, [ev('E', i)], { ...meta, expectedRevision: 'any' });
      const all = await store.readAll({ after: 0, limit: 100 });
      expect(all.map((e) => e.position)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(all.map((e) => (e.data as { n: number }).n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      const tail = await store.readAll({ after: 15, limit: 3 });
      expect(tail.map((e) => e.position)).toEqual([16, 17, 18]);
      expect(await store.headPosition()).toBe(20);
      await store.close();
    });

    it('chains each stream: every hash depends on the one before', async () => {
      const store = await open();
      await appendToStream(store, 's', [ev('A', 1), ev('A', 1)], { ...meta, expectedRevision: 'any' });
      const [a, b] = (await store.readStream('s')).events;
      expect(a!.hash).not.toBe(b!.hash);
      await store.close();
    });

    it('tells subscribers about new events with the new head', async () => {
      const store = await open();
      const heads: number[] = [];
      const off = store.onAppended((h) => heads.push(h));
      await appendToStream(store, 's', [ev('A', 1), ev('B', 2)], { ...meta, expectedRevision: 'any' });
      off();
      await appendToStream(store, 's', [ev('C', 3)], { ...meta, expectedRevision: 'any' });
      expect(heads).toEqual([2]);
      await store.close();
    });

    it('reads a stream from a revision', async () => {
      const store = await open();
      await appendToStream(store, 's', [ev('A', 0), ev('B', 1), ev('C', 2)], { ...meta, expectedRevision: 'any' });
      const { events } = await store.readStream('s', { fromRevision: 1 });
      expect(events.map((e) => e.type)).toEqual(['B', 'C']);
      await store.close();
    });
    it('reads the raw log: the stored canonical text, which the stored hash covers', async () => {
      const store = await open();
      await appendToStream(store, 's', [{ type: 'A', data: { z: 1, a: [1.5, 'x'] } }, ev('B', 2)], {
        ...meta,
        expectedRevision: 'no_stream',
        causationId: 'cause-1',
      });
      await appendToStream(store, 't', [ev('C', 3)], { ...meta, expectedRevision: 'no_stream' });
      const raw = await store.readAllRaw({ after: 0, limit: 10 });
      expect(raw.map((e) => [e.position, e.stream, e.revision, e.type])).toEqual([
        [1, 's', 0, 'A'],
        [2, 's', 1, 'B'],
        [3, 't', 0, 'C'],
      ]);
      expect(raw[0]!.dataText).toBe(canonicalJson({ z: 1, a: [1.5, 'x'] }));
      expect(raw[0]).toMatchObject({ actor: 'user:contract', causationId: 'cause-1', schemaVersion: 1 });
      expect(raw[0]!.hash).toBe(chainHash(GENESIS_HASH, raw[0]!, raw[0]!.dataText));
      expect(raw[1]!.hash).toBe(chainHash(raw[0]!.hash, raw[1]!, raw[1]!.dataText));
      const parsed = await store.readAll({ after: 0, limit: 10 });
      expect(raw.map((e) => e.hash)).toEqual(parsed.map((e) => e.hash));
      expect((await store.readAllRaw({ after: 1, limit: 1 })).map((e) => e.position)).toEqual([2]);
      await store.close();
    });

    it('returns from append exactly the data a later read gives, key order included', async () => {
      // Projections fed live from append and projections rebuilt from the log must agree.
      const store = await open();
      const data = { z: { b: [-0, 2], a: 'x' }, a: 1 };
      const { events } = await appendToStream(store, 's', [{ type: 'A', data }], { ...meta, expectedRevision: 'no_stream' });
      const [read] = await store.readAll({ after: 0, limit: 1 });
      expect(JSON.stringify(events[0]!.data)).toBe(JSON.stringify(read!.data));
      expect(JSON.stringify(read!.data)).toBe('{"a":1,"z":{"a":"x","b":[0,2]}}');
      await store.close();
    });

    it('reads every stream head with the head position, consistently', async () => {
      const store = await open();
      expect(await store.readHeads()).toEqual({ position: 0, heads: [] });
      await appendToStream(store, 'b', [ev('A', 1), ev('B', 2)], { ...meta, expectedRevision: 'no_stream' });
      await appendToStream(store, 'a', [ev('C', 3)], { ...meta, expectedRevision: 'no_stream' });
      const { position, heads } = await store.readHeads();
      expect(position).toBe(3);
      const log = await store.readAll({ after: 0, limit: 10 });
      expect(heads).toEqual([
        { stream: 'a', revision: 0, hash: log[2]!.hash },
        { stream: 'b', revision: 1, hash: log[1]!.hash },
      ]);
      await store.close();
    });
  });
}
