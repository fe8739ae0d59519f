import type { CompareOp, FilterExpr, OrderTerm, SortDirection } from './ast.js';
import { readIdentifier, type ParsedIdentifier } from './identifier.js';
import { Scanner } from './scanner.js';
import { typeComparison, type RawPredicate, type RawValue } from './typing.js';

/** Deep enough for any hand-written filter, shallow enough to keep recursion off the stack limit. */
const MAX_NESTING = 100;

const SYMBOL_OPERATORS: ReadonlyArray<readonly [string, CompareOp]> = [
  // Two-character symbols first, so `<=` is not read as `<` followed by `=`.
  ['==', '='],
  ['!=', '!='],
  ['<>', '!='],
  ['<=', '<='],
  ['>=', '>='],
  ['=', '='],
  ['<', '<'],
  ['>', '>'],
];
const OPERATOR_LIST = '=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS';
const CONDITION = 'a condition such as metrics.acc > 0.5';
const ORDER_TARGET = 'a metric, param, tag or attribute to order by, such as metrics.acc DESC';

type Operator = { position: number } & (
  | { family: 'compare'; op: CompareOp }
  | { family: 'like'; op: 'LIKE' | 'ILIKE' | 'NOT LIKE' | 'NOT ILIKE' }
  | { family: 'in'; op: 'IN' | 'NOT IN' }
  | { family: 'null'; op: 'IS NULL' | 'IS NOT NULL' }
);

/**
 * Parses a run-search filter. Returns null for an empty filter, which matches every run.
 * Precedence is NOT > AND > OR; keywords are case-insensitive.
 * @throws FilterSyntaxError
 */
export function parseFilter(text: string): FilterExpr | null {
  return new FilterParser(new Scanner(text, { subject: 'filter' })).parse();
}

/**
 * Parses order-by terms such as `metrics.acc DESC`. A single string may hold several
 * comma-separated terms; a blank string means no terms.
 * @throws FilterSyntaxError with `details.orderByIndex`, the index of the offending item
 */
export function parseOrderBy(items: readonly string[] | string): OrderTerm[] {
  if (typeof items === 'string') return items.trim() === '' ? [] : parseOrderItem(items, 0);
  return items.flatMap((item, index) => parseOrderItem(item, index));
}

function parseOrderItem(text: string, index: number): OrderTerm[] {
  const s = new Scanner(text, { subject: 'order-by term', details: { orderByIndex: index } });
  const terms = [readOrderTerm(s)];
  while (s.acceptChar(',')) terms.push(readOrderTerm(s));
  return terms;
}

function readOrderTerm(s: Scanner): OrderTerm {
  const identifier = readIdentifier(s, ORDER_TARGET);
  const direction = readDirection(s);
  if (!s.atEnd() && s.peekChar() !== ',') {
    s.fail(
      `expected ASC, DESC, "," or the end after ${identifier.text}, found ${s.describeNext()}`,
      s.pos,
    );
  }
  return { target: identifier.ref, direction };
}

function readDirection(s: Scanner): SortDirection {
  if (s.acceptKeyword('DESC')) return 'DESC';
  s.acceptKeyword('ASC');
  return 'ASC';
}

class FilterParser {
  private depth = 0;

  constructor(private readonly s: Scanner) {}

  parse(): FilterExpr | null {
    if (this.s.atEnd()) return null;
    const expr = this.disjunction();
    if (!this.s.atEnd()) {
      if (this.s.peekChar() === ')') this.s.fail('unbalanced ")": no "(" is open here', this.s.pos);
      this.s.fail(`expected AND, OR or the end of the filter, found ${this.s.describeNext()}`, this.s.pos);
    }
    return expr;
  }

  private disjunction(): FilterExpr {
    const first = this.conjunction();
    const rest: FilterExpr[] = [];
    while (this.s.acceptKeyword('OR')) rest.push(this.conjunction());
    return rest.length === 0 ? first : { type: 'or', operands: [first, ...rest] };
  }

  private conjunction(): FilterExpr {
    const first = this.negation();
    const rest: FilterExpr[] = [];
    while (this.s.acceptKeyword('AND')) rest.push(this.negation());
    return rest.length === 0 ? first : { type: 'and', operands: [first, ...rest] };
  }

  private negation(): FilterExpr {
    const position = this.s.pos;
    if (!this.s.acceptKeyword('NOT')) return this.primary();
    return this.nested(position, () => ({ type: 'not', operand: this.negation() }));
  }

  private primary(): FilterExpr {
    this.s.skipSpace();
    const open = this.s.pos;
    if (!this.s.acceptChar('(')) return this.comparison();
    return this.nested(open, () => {
      const expr = this.disjunction();
      if (!this.s.acceptChar(')')) {
        this.s.fail(
          `expected AND, OR or ")" to close the "(" at position ${open}, found ${this.s.describeNext()}`,
          this.s.pos,
        );
      }
      return expr;
    });
  }

  private nested(position: number, parse: () => FilterExpr): FilterExpr {
    if (++this.depth > MAX_NESTING) {
      this.s.fail(`the filter nests NOT and parentheses more than ${MAX_NESTING} levels deep`, position);
    }
    const expr = parse();
    this.depth--;
    return expr;
  }

  private comparison(): FilterExpr {
    const identifier = readIdentifier(this.s, CONDITION);
    const predicate = readPredicate(this.s, identifier);
    return typeComparison(identifier, predicate, (reason, position) => this.s.fail(reason, position));
  }
}

function readPredicate(s: Scanner, identifier: ParsedIdentifier): RawPredicate {
  const operator = readOperator(s, identifier);
  const { op, position } = operator;
  switch (operator.family) {
    case 'null':
      return { op: operator.op, position };
    case 'in':
      return { op: operator.op, position, values: readList(s, `the ${op} list of ${identifier.text}`) };
    case 'like':
      return { op: operator.op, position, value: readValue(s, `after ${identifier.text} ${op}`) };
    case 'compare':
      return { op: operator.op, position, value: readValue(s, `after ${identifier.text} ${op}`) };
  }
}

function readOperator(s: Scanner, identifier: ParsedIdentifier): Operator {
  s.skipSpace();
  const position = s.pos;
  for (const [symbol, op] of SYMBOL_OPERATORS) {
    if (s.acceptSymbol(symbol)) return { family: 'compare', op, position };
  }
  if (s.acceptKeyword('LIKE')) return { family: 'like', op: 'LIKE', position };
  if (s.acceptKeyword('ILIKE')) return { family: 'like', op: 'ILIKE', position };
  if (s.acceptKeyword('IN')) return { family: 'in', op: 'IN', position };
  if (s.acceptKeyword('NOT')) return readNegatedOperator(s, position);
  if (s.acceptKeyword('IS')) return readNullTest(s, position);
  return s.fail(
    `expected a comparison operator (${OPERATOR_LIST}) after ${identifier.text}, found ${s.describeNext()}`,
    position,
  );
}

function readNegatedOperator(s: Scanner, position: number): Operator {
  if (s.acceptKeyword('LIKE')) return { family: 'like', op: 'NOT LIKE', position };
  if (s.acceptKeyword('ILIKE')) return { family: 'like', op: 'NOT ILIKE', position };
  if (s.acceptKeyword('IN')) return { family: 'in', op: 'NOT IN', position };
  return s.fail(`expected LIKE, ILIKE or IN after NOT, found ${s.describeNext()}`, s.pos);
}

function readNullTest(s: Scanner, position: number): Operator {
  const negated = s.acceptKeyword('NOT');
  if (!s.acceptKeyword('NULL')) {
    const expected = negated ? 'NULL after IS NOT' : 'NULL or NOT NULL after IS';
    s.fail(`expected ${expected}, found ${s.describeNext()}`, s.pos);
  }
  return { family: 'null', op: negated ? 'IS NOT NULL' : 'IS NULL', position };
}

function readList(s: Scanner, list: string): RawValue[] {
  s.skipSpace();
  const open = s.pos;
  if (!s.acceptChar('(')) s.fail(`expected "(" to start ${list}, found ${s.describeNext()}`, s.pos);
  s.skipSpace();
  if (s.peekChar() === ')') s.fail(`${list} is empty: give at least one value`, s.pos);
  const where = `in ${list}`;
  const values = [readValue(s, where)];
  for (;;) {
    if (s.acceptChar(',')) values.push(readValue(s, where));
    else if (s.acceptChar(')')) return values;
    else s.fail(`expected "," or ")" in ${list} opened at position ${open}, found ${s.describeNext()}`, s.pos);
  }
}

function readValue(s: Scanner, where: string): RawValue {
  s.skipSpace();
  const position = s.pos;
  const char = s.peekChar();
  if (char === "'" || char === '"') {
    const value = s.readQuoted('string');
    return { kind: 'string', value, text: s.text.slice(position, s.pos), position };
  }
  const number = s.readNumber();
  if (number !== undefined) return { kind: 'number', ...number, text: s.text.slice(position, s.pos), position };
  const expected = `expected a value (a quoted string or a number) ${where}, found ${s.describeNext()}`;
  const word = s.peekWord();
  if (word?.toUpperCase() === 'NULL') s.fail(`${expected}; to test for a missing value use IS NULL`, position);
  if (word !== undefined) s.fail(`${expected}; quote text values, as in '${word}'`, position);
  return s.fail(expected, position);
}
