/** A query function, or a function a query's result carries. */
export type QueryFn = (...args: unknown[]) => unknown;

/**
 * `result` with each of its own function members (a page's lazy totalCount) replaced by
 * `wrap(fn, key)`: such a function runs after its query returned, so whoever wraps queries
 * must wrap these too. Anything else (no function members, an array, a plain value) is
 * returned as it is.
 */
export function mapResultFunctions(result: unknown, wrap: (fn: QueryFn, key: string) => QueryFn): unknown {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return result;
  const fns = Object.entries(result).filter(([, v]) => typeof v === 'function') as [string, QueryFn][];
  if (fns.length === 0) return result;
  const copy: Record<string, unknown> = { ...result };
  for (const [k, fn] of fns) copy[k] = wrap(fn, k);
  return copy;
}
