import type { RegistryCondition, RegistryOrder, RegistrySearch } from '@chronicle/projections';
import { invalidParameter } from '../wire.js';
import { optionalInteger, optionalString, stringList, type Fields } from './request.js';

/**
 * MLflow's registry search: `filter` is conditions joined by AND (`name LIKE 'churn%'`,
 * `tags.team = 'risk'`, `run_id IN ('a', 'b')`, `version_number > 2`), `order_by` a list of
 * `field [ASC|DESC]`, `page_token` where the last page stopped.
 */
export type SearchKind = 'models' | 'versions';

type Token = { kind: 'ident' | 'string' | 'number' | 'op' | 'lparen' | 'rparen' | 'comma'; text: string };

const TOKEN = /\s*(?:(`[^`]*`(?:\.`[^`]*`)*|[A-Za-z_][\w]*(?:\.(?:`[^`]*`|[\w]+))*)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)|(!=|<>|<=|>=|=|<|>)|(\()|(\))|(,))/y;

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < filter.length) {
    if (/^\s*$/.test(filter.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(filter);
    if (!m) throw badFilter(filter, `unexpected text at character ${at + 1}: ${filter.slice(at, at + 20)}`);
    if (m[1] !== undefined) tokens.push({ kind: 'ident', text: m[1] });
    else if (m[2] !== undefined) tokens.push({ kind: 'string', text: unquote(m[2]) });
    else if (m[3] !== undefined) tokens.push({ kind: 'number', text: m[3] });
    else if (m[4] !== undefined) tokens.push({ kind: 'op', text: m[4] === '<>' ? '!=' : m[4] });
    else if (m[5] !== undefined) tokens.push({ kind: 'lparen', text: '(' });
    else if (m[6] !== undefined) tokens.push({ kind: 'rparen', text: ')' });
    else tokens.push({ kind: 'comma', text: ',' });
  }
  return tokens;
}

const unquote = (s: string) => s.slice(1, -1).replace(/\\(.)/g, '$1');
const badFilter = (filter: string, why: string) => invalidParameter(`Invalid filter '${filter}': ${why}`);

/** `name`, `tags.team`, `` tags.`my key` ``, `attributes.run_id`: the entity part and the key. */
function splitIdentifier(ident: string): { entity: string; key: string } {
  const dot = ident.startsWith('`') ? -1 : ident.indexOf('.');
  const strip = (s: string) => (s.startsWith('`') && s.endsWith('`') ? s.slice(1, -1) : s);
  if (dot < 0) return { entity: 'attribute', key: strip(ident) };
  const entity = ident.slice(0, dot).toLowerCase();
  return { entity, key: strip(ident.slice(dot + 1)) };
}

const ATTRIBUTES: Record<SearchKind, Record<string, 'name' | 'run_id' | 'source' | 'version' | 'logged_model_id'>> = {
  models: { name: 'name' },
  versions: { name: 'name', run_id: 'run_id', source_path: 'source', version_number: 'version', model_id: 'logged_model_id' },
};

export function parseFilter(filter: string, kind: SearchKind): RegistryCondition[] {
  const tokens = tokenize(filter);
  const conditions: RegistryCondition[] = [];
  let i = 0;
  const next = () => tokens[i++];
  while (i < tokens.length) {
    const ident = next()!;
    if (ident.kind !== 'ident') throw badFilter(filter, `expected a field name, got ${ident.text}`);
    const { entity, key } = splitIdentifier(ident.text);
    let opTok = next();
    if (!opTok) throw badFilter(filter, `expected a comparison after ${ident.text}`);
    let op = opTok.kind === 'op' ? opTok.text : opTok.kind === 'ident' ? opTok.text.toUpperCase() : '';
    if (op === 'NOT') {
      opTok = next();
      if (opTok?.kind !== 'ident' || opTok.text.toUpperCase() !== 'IN') throw badFilter(filter, 'expected IN after NOT');
      op = 'NOT IN';
    } else if (op === 'IS') {
      const notOrNull = next();
      const negated = notOrNull?.kind === 'ident' && notOrNull.text.toUpperCase() === 'NOT';
      const nullTok = negated ? next() : notOrNull;
      if (nullTok?.kind !== 'ident' || nullTok.text.toUpperCase() !== 'NULL') throw badFilter(filter, 'expected IS [NOT] NULL');
      if (entity !== 'tags' && entity !== 'tag') throw badFilter(filter, 'IS [NOT] NULL applies to tags only');
      conditions.push({ field: 'tag', key, op: negated ? 'EXISTS' : 'NOT EXISTS' });
      op = '';
    }
    if (op !== '') {
      if (op === 'IN' || op === 'NOT IN') {
        if (next()?.kind !== 'lparen') throw badFilter(filter, `expected ( after ${op}`);
        const values: string[] = [];
        for (;;) {
          const v = next();
          if (v?.kind !== 'string') throw badFilter(filter, `${op} takes a list of quoted strings`);
          values.push(v.text);
          const sep = next();
          if (sep?.kind === 'rparen') break;
          if (sep?.kind !== 'comma') throw badFilter(filter, `expected , or ) in the ${op} list`);
        }
        const field = entity === 'attribute' || entity === 'attributes' ? ATTRIBUTES[kind][key] : undefined;
        if (field !== 'run_id' && field !== 'name') throw badFilter(filter, `${op} applies to run_id and name only`);
        conditions.push({ field, op, values });
      } else {
        const value = next();
        if (!value || (value.kind !== 'string' && value.kind !== 'number')) throw badFilter(filter, `expected a value after ${ident.text} ${op}`);
        conditions.push(condition(filter, kind, entity, key, op, value));
      }
    }
    const and = next();
    if (and === undefined) break;
    if (and.kind !== 'ident' || and.text.toUpperCase() !== 'AND')
      throw badFilter(filter, `expected AND between conditions, got ${and.text}${and.text.toUpperCase() === 'OR' ? ' (OR is not supported by MLflow\'s registry search)' : ''}`);
    if (i >= tokens.length) throw badFilter(filter, 'AND must be followed by a condition');
  }
  return conditions;
}

const TEXT_OPS = new Set(['=', '!=', 'LIKE', 'ILIKE']);
const NUMBER_OPS = new Set(['=', '!=', '<', '<=', '>', '>=']);

function condition(filter: string, kind: SearchKind, entity: string, key: string, op: string, value: Token): RegistryCondition {
  if (entity === 'tags' || entity === 'tag') {
    if (!TEXT_OPS.has(op) || value.kind !== 'string') throw badFilter(filter, `tags compare with =, !=, LIKE or ILIKE against a quoted string`);
    return { field: 'tag', key, op: op as '=', value: value.text };
  }
  if (entity !== 'attribute' && entity !== 'attributes') throw badFilter(filter, `unknown entity '${entity}'; use ${Object.keys(ATTRIBUTES[kind]).join(', ')} or tags.<key>`);
  const field = ATTRIBUTES[kind][key];
  if (!field) throw badFilter(filter, `unknown field '${key}'; ${kind === 'models' ? 'registered models' : 'model versions'} are searched by ${Object.keys(ATTRIBUTES[kind]).join(', ')} or tags.<key>`);
  if (field === 'version') {
    const n = Number(value.text);
    if (!NUMBER_OPS.has(op) || !Number.isFinite(n)) throw badFilter(filter, 'version_number compares with =, !=, <, <=, >, >= against a number');
    return { field, op: op as '=', value: n };
  }
  if (!TEXT_OPS.has(op) || value.kind !== 'string') throw badFilter(filter, `${key} compares with =, !=, LIKE or ILIKE against a quoted string`);
  return { field, op: op as '=', value: value.text };
}

const ORDER_FIELDS: Record<SearchKind, Record<string, RegistryOrder['field']>> = {
  models: { name: 'name', timestamp: 'updated_at', last_updated_timestamp: 'updated_at', creation_timestamp: 'created_at' },
  versions: {
    name: 'name',
    version_number: 'version',
    timestamp: 'updated_at',
    last_updated_timestamp: 'updated_at',
    creation_timestamp: 'created_at',
  },
};

export function parseOrderBy(clauses: readonly string[], kind: SearchKind): RegistryOrder[] {
  return clauses.map((clause) => {
    const m = /^\s*(?:attributes?\.)?`?([A-Za-z_]+)`?(?:\s+(ASC|DESC))?\s*$/i.exec(clause);
    const field = m ? ORDER_FIELDS[kind][m[1]!.toLowerCase()] : undefined;
    if (!m || !field)
      throw invalidParameter(`Invalid order_by clause '${clause}': order by ${Object.keys(ORDER_FIELDS[kind]).join(', ')}, optionally followed by ASC or DESC`);
    return { field, descending: (m[2] ?? 'ASC').toUpperCase() === 'DESC' };
  });
}

/** MLflow's own limits: 1000 registered models, 200,000 model versions per page. */
const LIMITS: Record<SearchKind, { default: number; max: number }> = {
  models: { default: 100, max: 1000 },
  versions: { default: 10_000, max: 200_000 },
};

/** Page tokens are opaque to clients: the offset of the next page. */
export const encodePageToken = (offset: number) => Buffer.from(JSON.stringify({ offset })).toString('base64url');

function decodePageToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown };
    if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through to the error below
  }
  throw invalidParameter(`Invalid page token '${token}': pass the next_page_token of the previous page unchanged`);
}

export function parseSearch(f: Fields, kind: SearchKind): RegistrySearch {
  const limits = LIMITS[kind];
  const limit = optionalInteger(f, 'max_results') ?? limits.default;
  if (limit < 1 || limit > limits.max)
    throw invalidParameter(`Invalid value ${limit} for parameter 'max_results' supplied: it must be between 1 and ${limits.max}`);
  return {
    conditions: parseFilter(optionalString(f, 'filter') ?? '', kind),
    orderBy: parseOrderBy(stringList(f, 'order_by'), kind),
    limit,
    offset: decodePageToken(optionalString(f, 'page_token')),
  };
}
