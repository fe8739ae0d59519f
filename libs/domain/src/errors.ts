/**
 * Errors every layer understands. Each carries a `kind` and knows nothing of
 * transports: the GraphQL and HTTP layers map kinds to codes and statuses in one place.
 */
export type ErrorKind =
  | 'validation'
  | 'not_found'
  | 'conflict'
  | 'illegal_transition'
  | 'forbidden'
  | 'unauthenticated'
  | 'unavailable';

export abstract class ChronicleError extends Error {
  abstract readonly kind: ErrorKind;
  /** Machine-readable details safe to show a client (field names, positions, ids). */
  readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export class ValidationFailed extends ChronicleError {
  readonly kind = 'validation' as const;
}
export class NotFound extends ChronicleError {
  readonly kind = 'not_found' as const;
}
export class ConcurrencyConflict extends ChronicleError {
  readonly kind = 'conflict' as const;
}
export class IllegalTransition extends ChronicleError {
  readonly kind = 'illegal_transition' as const;
}
export class Forbidden extends ChronicleError {
  readonly kind = 'forbidden' as const;
}
export class Unauthenticated extends ChronicleError {
  readonly kind = 'unauthenticated' as const;
}

/** The server cannot serve this now (e.g. its read models stopped); retrying later may succeed. */
export class Unavailable extends ChronicleError {
  readonly kind = 'unavailable' as const;
}

export function isChronicleError(e: unknown): e is ChronicleError {
  return e instanceof ChronicleError;
}

export function assertNever(x: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
}
