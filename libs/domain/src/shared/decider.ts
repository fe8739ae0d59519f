/** An event as a decider produces it: no position, no metadata yet. */
export interface DomainEvent<T extends string = string, D = unknown> {
  readonly type: T;
  readonly data: D;
}

export interface Decider<S, C, E extends DomainEvent> {
  decide(command: C, state: S): E[];
  evolve(state: S, event: E): S;
  initialState(): S;
}

/** An event as the store returns it: the envelope of DESIGN.md principle 6. */
export interface RecordedEvent<E extends DomainEvent = DomainEvent> {
  readonly id: string;
  readonly type: E['type'];
  readonly schemaVersion: number;
  readonly stream: string;
  /** 0-based position of the event inside its stream. */
  readonly revision: number;
  /** 1-based position in the global log; strictly increasing, no reuse. */
  readonly position: number;
  /** Milliseconds since the epoch, taken by the store when it appended the event. */
  readonly recordedAt: number;
  readonly actor: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly data: E['data'];
  /** Hex SHA-256 chaining this event to the previous one of its stream. */
  readonly hash: string;
}
