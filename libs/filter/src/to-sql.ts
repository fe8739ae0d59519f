import { assertNever } from '@chronicle/domain';
import type {
  AttributeComparison,
  AttributeName,
  CompareOp,
  FilterExpr,
  Identifier,
  LikeOp,
  MetricComparison,
  OrderTerm,
  ParamComparison,
  SortDirection,
  TagComparison,
} from './ast.js';

/** A SQLite fragment over the runs table aliased `r`, with `?` placeholders bound in order. */
export type SqlFragment = { sql: string; params: unknown[] };

const ATTRIBUTE_COLUMNS = {
  run_id: 'r.run_id',
  run_name: 'r.name',
  status: 'r.status',
  start_time: 'r.start_time',
  end_time: 'r.end_time',
  user_id: 'r.user_id',
  experiment_id: 'r.experiment_id',
  lifecycle_stage: 'r.lifecycle',
  parent_run_id: 'r.parent_run_id',
} as const satisfies Record<AttributeName, string>;

const NULLABLE_ATTRIBUTES: ReadonlySet<AttributeName> = new Set(['end_time', 'parent_run_id']);

const ENTRY_TABLES = {
  metric: { table: 'rm_run_metrics', alias: 'm' },
  param: { table: 'rm_run_params', alias: 'p' },
  tag: { table: 'rm_run_tags', alias: 't' },
} as const;
type EntryKind = keyof typeof ENTRY_TABLES;

// Operators reach the SQL text only through these tables, so a hand-built AST carrying an
// unexpected operator produces invalid SQL rather than injected SQL.
const COMPARE_SQL = {
  '=': '=',
  '!=': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
} as const satisfies Record<CompareOp, string>;
const DIRECTION_SQL = { ASC: 'ASC', DESC: 'DESC' } as const satisfies Record<SortDirection, string>;

const MATCH_ALL = 'TRUE';
const MATCH_NONE = 'FALSE';
const TIE_BREAKERS: ReadonlyArray<readonly [AttributeName, string]> = [
  ['start_time', 'r.start_time DESC'],
  ['run_id', 'r.run_id ASC'],
];

/**
 * Compiles a filter to a WHERE-clause fragment over `rm_runs r`; null (no filter) matches all.
 * Composite expressions come back parenthesised, so the fragment can be ANDed with others.
 */
export function filterToSql(expr: FilterExpr | null): SqlFragment {
  return expr === null ? fragment(MATCH_ALL) : exprSql(expr);
}

/**
 * Compiles order terms to an ORDER BY list (without the keyword). It always ends with the
 * tie-breakers `r.start_time DESC, r.run_id ASC` (each unless a term already orders by it),
 * so pages never overlap. Its params follow the filter's in the final statement.
 */
export function orderByToSql(terms: readonly OrderTerm[]): SqlFragment {
  const explicit = terms.map(orderTermSql);
  const tieBreakers = TIE_BREAKERS.filter(([name]) => !terms.some((t) => isAttribute(t.target, name)))
    .map(([, sql]) => fragment(sql));
  return join([...explicit, ...tieBreakers], ', ');
}

function exprSql(expr: FilterExpr): SqlFragment {
  switch (expr.type) {
    case 'and':
      return combine(expr.operands, ' AND ', MATCH_ALL);
    case 'or':
      return combine(expr.operands, ' OR ', MATCH_NONE);
    case 'not':
      return negate(exprSql(expr.operand));
    case 'metric':
      return metricSql(expr);
    case 'param':
    case 'tag':
      return entrySql(expr);
    case 'attribute':
      return attributeSql(expr);
    default:
      return assertNever(expr);
  }
}

function combine(operands: readonly FilterExpr[], separator: string, whenEmpty: string): SqlFragment {
  if (operands.length === 0) return fragment(whenEmpty);
  return parenthesise(join(operands.map(exprSql), separator));
}

/**
 * A run lacking the key matches no comparison (as in MLflow), so `!=` needs the key too.
 * Correlated on (run_id, key), the subquery is a primary-key lookup.
 */
function keyExists(kind: EntryKind, key: string, condition?: SqlFragment): SqlFragment {
  const lookup = entryLookup(kind, '1', condition?.sql);
  return fragment(`EXISTS ${lookup}`, [key, ...(condition?.params ?? [])]);
}

/** A subquery selecting `selected` from the run's entry with the key bound to the first `?`. */
function entryLookup(kind: EntryKind, selected: string, condition?: string): string {
  const { table, alias } = ENTRY_TABLES[kind];
  const where = `${alias}.run_id = r.run_id AND ${alias}.key = ?${condition === undefined ? '' : ` AND ${condition}`}`;
  return `(SELECT ${selected} FROM ${table} ${alias} WHERE ${where})`;
}

function metricSql(c: MetricComparison): SqlFragment {
  switch (c.op) {
    case 'IS NULL':
      return negate(keyExists('metric', c.key));
    case 'IS NOT NULL':
      return keyExists('metric', c.key);
    case 'IN':
      return keyExists('metric', c.key, metricIn(c.values));
    case 'NOT IN':
      return keyExists('metric', c.key, metricNotIn(c.values));
    default:
      return keyExists('metric', c.key, metricCompare(c.op, c.value));
  }
}

// NaN is stored as value NULL with is_nan = 1, so a NaN metric fails every comparison on
// m.value; only `= NaN` (and `!= NaN` for the other values) look at is_nan.
function metricCompare(op: CompareOp, value: number): SqlFragment {
  if (!Number.isNaN(value)) return fragment(`m.value ${COMPARE_SQL[op]} ?`, [value]);
  if (op === '=') return fragment('m.is_nan = 1');
  if (op === '!=') return fragment('m.is_nan = 0');
  return fragment(MATCH_NONE);
}

function metricIn(values: readonly number[]): SqlFragment {
  const numbers = values.filter((v) => !Number.isNaN(v));
  const parts = numbers.length > 0 ? [fragment(`m.value IN (${placeholders(numbers)})`, numbers)] : [];
  if (numbers.length < values.length) parts.push(fragment('m.is_nan = 1'));
  return parts.length === 0 ? fragment(MATCH_NONE) : parenthesise(join(parts, ' OR '));
}

function metricNotIn(values: readonly number[]): SqlFragment {
  const numbers = values.filter((v) => !Number.isNaN(v));
  // m.value NOT IN (...) is NULL for a NaN metric, which therefore never matches.
  if (numbers.length > 0) return fragment(`m.value NOT IN (${placeholders(numbers)})`, numbers);
  return fragment('m.is_nan = 0');
}

function entrySql(c: ParamComparison | TagComparison): SqlFragment {
  const { alias } = ENTRY_TABLES[c.type];
  const value = `${alias}.value`;
  switch (c.op) {
    case 'IS NULL':
      return negate(keyExists(c.type, c.key));
    case 'IS NOT NULL':
      return keyExists(c.type, c.key);
    case 'LIKE':
    case 'ILIKE':
    case 'NOT LIKE':
    case 'NOT ILIKE':
      return keyExists(c.type, c.key, likeSql(value, c.op, c.pattern));
    case 'IN':
      return keyExists(c.type, c.key, entryIn(value, c.values));
    case 'NOT IN':
      return keyExists(c.type, c.key, negate(entryIn(value, c.values)));
    default:
      return keyExists(c.type, c.key, entryCompare(value, c.op, c.value));
  }
}

function entryCompare(column: string, op: CompareOp, value: string | number): SqlFragment {
  if (typeof value === 'string') return fragment(`${column} ${COMPARE_SQL[op]} ?`, [value]);
  // Text that is not a number is unequal to every number, rather than incomparable.
  if (op === '!=') return negate(numericCompare(column, '=', value));
  return numericCompare(column, op, value);
}

function numericCompare(column: string, op: CompareOp, value: number): SqlFragment {
  return fragment(`(${looksNumeric(column)} AND CAST(${column} AS REAL) ${COMPARE_SQL[op]} ?)`, [value]);
}

function entryIn(column: string, values: readonly (string | number)[]): SqlFragment {
  const texts = values.filter((v): v is string => typeof v === 'string');
  const numbers = values.filter((v): v is number => typeof v === 'number');
  const parts: SqlFragment[] = [];
  if (texts.length > 0) parts.push(fragment(`${column} IN (${placeholders(texts)})`, texts));
  if (numbers.length > 0) {
    parts.push(
      fragment(`(${looksNumeric(column)} AND CAST(${column} AS REAL) IN (${placeholders(numbers)}))`, numbers),
    );
  }
  return parts.length === 0 ? fragment(MATCH_NONE) : parenthesise(join(parts, ' OR '));
}

/**
 * CAST alone turns 'abc' into 0 and '12abc' into 12. Comparing the TEXT column with its
 * REAL cast applies numeric affinity to the column side, which converts only well-formed
 * numbers, so the two are equal exactly when the text is a number.
 */
function looksNumeric(column: string): string {
  return `${column} = CAST(${column} AS REAL)`;
}

function likeSql(column: string, op: LikeOp, pattern: string): SqlFragment {
  switch (op) {
    case 'LIKE':
      return fragment(`${column} LIKE ?`, [pattern]);
    case 'NOT LIKE':
      return fragment(`${column} NOT LIKE ?`, [pattern]);
    // The connection runs with case_sensitive_like = ON, so ILIKE lowers both sides.
    case 'ILIKE':
      return fragment(`lower(${column}) LIKE lower(?)`, [pattern]);
    case 'NOT ILIKE':
      return fragment(`lower(${column}) NOT LIKE lower(?)`, [pattern]);
    default:
      return assertNever(op);
  }
}

function attributeSql(c: AttributeComparison): SqlFragment {
  const column = ATTRIBUTE_COLUMNS[c.name];
  switch (c.op) {
    case 'IS NULL':
      return fragment(`${column} IS NULL`);
    case 'IS NOT NULL':
      return fragment(`${column} IS NOT NULL`);
    case 'LIKE':
    case 'ILIKE':
    case 'NOT LIKE':
    case 'NOT ILIKE':
      return likeSql(column, c.op, c.pattern);
    case 'IN':
      return fragment(`${column} IN (${placeholders(c.values)})`, [...c.values]);
    case 'NOT IN':
      return fragment(`${column} NOT IN (${placeholders(c.values)})`, [...c.values]);
    default:
      return fragment(`${column} ${COMPARE_SQL[c.op]} ?`, [c.value]);
  }
}

function orderTermSql({ target, direction }: OrderTerm): SqlFragment {
  const dir = DIRECTION_SQL[direction];
  switch (target.type) {
    case 'metric': {
      const isNan = entryLookup('metric', 'm.is_nan');
      const value = entryLookup('metric', 'm.value');
      // As in MLflow, whatever the direction: numbers first, then NaN, then runs without the metric.
      return fragment(`COALESCE(${isNan}, 2) ASC, ${value} ${dir}`, [target.key, target.key]);
    }
    case 'param':
    case 'tag': {
      const value = entryLookup(target.type, `${ENTRY_TABLES[target.type].alias}.value`);
      return fragment(`${value} ${dir} NULLS LAST`, [target.key]);
    }
    case 'attribute': {
      const nulls = NULLABLE_ATTRIBUTES.has(target.name) ? ' NULLS LAST' : '';
      return fragment(`${ATTRIBUTE_COLUMNS[target.name]} ${dir}${nulls}`);
    }
    default:
      return assertNever(target);
  }
}

function isAttribute(target: Identifier, name: AttributeName): boolean {
  return target.type === 'attribute' && target.name === name;
}

function fragment(sql: string, params: readonly unknown[] = []): SqlFragment {
  return { sql, params: [...params] };
}

function join(parts: readonly SqlFragment[], separator: string): SqlFragment {
  return fragment(
    parts.map((p) => p.sql).join(separator),
    parts.flatMap((p) => p.params),
  );
}

function parenthesise(part: SqlFragment): SqlFragment {
  return fragment(`(${part.sql})`, part.params);
}

function negate(part: SqlFragment): SqlFragment {
  return fragment(`NOT (${part.sql})`, part.params);
}

function placeholders(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}
