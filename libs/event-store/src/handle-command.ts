import { ConcurrencyConflict, type Decider, type DomainEvent } from '@chronicle/domain';
import type { AppendMetadata, AppendResult, EventStore } from './port.js';

/**
 * Aggregate states by stream, so a long stream (a run with thousands of metric batches)
 * is folded once and then only caught up with its newest events.
 */
export class StateCache {
  private readonly entries = new Map<string, { revision: number; state: unknown }>();
  constructor(private readonly capacity = 10_000) {}

  get<S>(stream: string): { revision: number; state: S } | undefined {
    const e = this.entries.get(stream);
    if (e) {
      // Re-insert so the Map's order doubles as least-recently-used order.
      this.entries.delete(stream);
      this.entries.set(stream, e);
    }
    return e as { revision: number; state: S } | undefined;
  }

  set(stream: string, revision: number, state: unknown): void {
    this.entries.delete(stream);
    this.entries.set(stream, { revision, state });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}

export async function loadState<S, C, E extends DomainEvent>(
  store: EventStore,
  stream: string,
  decider: Decider<S, C, E>,
  cache?: StateCache,
): Promise<{ state: S; revision: number }> {
  const cached = cache?.get<S>(stream);
  let state = cached?.state ?? decider.initialState();
  const { events, revision } = await store.readStream(stream, { fromRevision: (cached?.revision ?? -1) + 1 });
  for (const e of events) state = decider.evolve(state, e as unknown as E);
  if (cache && revision >= 0) cache.set(stream, revision, state);
  return { state, revision };
}

export interface HandleOptions {
  meta: AppendMetadata;
  cache?: StateCache;
  /** When the client states the revision it saw, a concurrent change is its conflict to resolve. */
  expectedRevision?: number;
  /** How often to re-decide on a fresh state after losing a race to another writer. */
  retries?: number;
}

/**
 * Loads the stream's state, decides, appends at the revision it decided on. Losing a race
 * re-runs the decision on the new state, so a rule is never checked against stale data.
 */
export async function handleCommand<S, C, E extends DomainEvent>(
  store: EventStore,
  stream: string,
  decider: Decider<S, C, E>,
  command: C | ((state: S) => C),
  opts: HandleOptions,
): Promise<AppendResult & { state: S }> {
  const replay = await store.findReplay(opts.meta);
  if (replay) return { ...replay, state: (await loadState(store, stream, decider, opts.cache)).state };
  const retries = opts.expectedRevision === undefined ? (opts.retries ?? 3) : 0;
  for (let attempt = 0; ; attempt++) {
    const { state, revision } = await loadState(store, stream, decider, opts.cache);
    if (opts.expectedRevision !== undefined && opts.expectedRevision !== revision)
      throw new ConcurrencyConflict(
        `stream ${stream} is at revision ${revision}, not ${opts.expectedRevision}; reload and retry`,
        { stream, expected: opts.expectedRevision, actual: revision },
      );
    const cmd = typeof command === 'function' ? (command as (s: S) => C)(state) : command;
    const events = decider.decide(cmd, state);
    try {
      const result = await store.append(
        [{ stream, expectedRevision: revision === -1 ? 'no_stream' : revision, events }],
        opts.meta,
      );
      let next = state;
      for (const e of events) next = decider.evolve(next, e);
      if (opts.cache && result.events.length > 0) opts.cache.set(stream, result.revisions[stream]!, next);
      return { ...result, state: next };
    } catch (e) {
      if (!(e instanceof ConcurrencyConflict) || attempt >= retries || !('stream' in e.details)) throw e;
    }
  }
}
