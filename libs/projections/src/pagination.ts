import { ValidationFailed } from '@chronicle/domain';

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 1000;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Page<T> {
  nodes: T[];
  endCursor: string | null;
  hasNextPage: boolean;
}

/** Cursors are opaque to clients: an offset, tagged so a cursor of one list is refused by another. */
export function encodeCursor(scope: string, offset: number): string {
  return Buffer.from(JSON.stringify({ s: scope, o: offset })).toString('base64url');
}

export function decodePage(scope: string, args: PageArgs, max = MAX_PAGE): { offset: number; limit: number } {
  const limit = args.first ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw new ValidationFailed(`first must be an integer between 1 and ${max}`, { field: 'first' });
  if (!args.after) return { offset: 0, limit };
  try {
    const c = JSON.parse(Buffer.from(args.after, 'base64url').toString('utf8')) as { s: unknown; o: unknown };
    if (c.s === scope && typeof c.o === 'number' && Number.isInteger(c.o) && c.o >= 0) return { offset: c.o, limit };
  } catch {
    // fall through to the error below
  }
  throw new ValidationFailed('after is not a cursor returned by this list; pass the endCursor of the previous page', {
    field: 'after',
  });
}

/** Builds a page from `limit + 1` fetched rows: the extra row only says whether more exist. */
export function toPage<T>(scope: string, rows: T[], offset: number, limit: number): Page<T> {
  const hasNextPage = rows.length > limit;
  const nodes = hasNextPage ? rows.slice(0, limit) : rows;
  return { nodes, hasNextPage, endCursor: nodes.length ? encodeCursor(scope, offset + nodes.length) : null };
}
