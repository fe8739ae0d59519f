import { createSqliteEventStore } from '@chronicle/event-store';
import { describe, expect, it } from 'vitest';
import { parseAsOf, readStreamUntil, resolveAsOf } from './resolve-position.js';

async function storeWithTimes(times: number[]) {
  let i = 0;
  const store = createSqliteEventStore({ path: ':memory:', clock: () => times[i++]! });
  for (let n = 0; n < times.length; n++)
    await store.append([{ stream: n % 2 ? 'b' : 'a', expectedRevision: 'any', events: [{ type: 'T', data: { n } }] }], { actor: 'user:ada' });
  return store;
}

describe('as-of resolution', () => {
  it('parses positions and ISO times, and refuses the rest', () => {
    expect(parseAsOf(' 42 ')).toEqual({ position: 42 });
    expect(parseAsOf('2026-11-27T10:00:00Z')).toEqual({ time: Date.UTC(2026, 10, 27, 10) });
    expect(() => parseAsOf('yesterday')).toThrow(/neither a log position/);
    expect(() => parseAsOf('')).toThrow(/neither/);
  });

  it('maps a time to the last event recorded at or before it, ties included', async () => {
    const store = await storeWithTimes([100, 200, 200, 300, 400, 500, 500, 600]);
    const pos = async (time: number) => (await resolveAsOf(store, { time })).position;
    expect(await pos(50)).toBe(0);
    expect(await pos(100)).toBe(1);
    expect(await pos(250)).toBe(3);
    expect(await pos(200)).toBe(3);
    expect(await pos(500)).toBe(7);
    expect(await pos(10_000)).toBe(8);
    expect(await resolveAsOf(store, { time: 450 })).toEqual({ position: 5, recordedAt: 400, head: 8 });
    expect(await resolveAsOf(store, null)).toEqual({ position: 8, recordedAt: 600, head: 8 });
  });

  it('refuses positions beyond the head or negative', async () => {
    const store = await storeWithTimes([1, 2, 3]);
    await expect(resolveAsOf(store, { position: 4 })).rejects.toThrow(/beyond the head of the log \(3\)/);
    await expect(resolveAsOf(store, { position: -1 })).rejects.toThrow(/0 or more/);
    expect((await resolveAsOf(store, { position: 0 })).recordedAt).toBeNull();
  });

  it('reads a stream only up to a position', async () => {
    const store = await storeWithTimes([1, 2, 3, 4, 5]);
    expect((await readStreamUntil(store, 'a', 3)).map((e) => e.data)).toEqual([{ n: 0 }, { n: 2 }]);
    expect(await readStreamUntil(store, 'a', 0)).toEqual([]);
  });
});
