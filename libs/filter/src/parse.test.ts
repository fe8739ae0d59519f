import { ValidationFailed } from '@chronicle/domain';
import { describe, expect, it } from 'vitest';
import type { FilterExpr, OrderTerm } from './ast.js';
import { FilterSyntaxError } from './errors.js';
import { parseFilter, parseOrderBy } from './parse.js';

const accAbove = { type: 'metric', key: 'acc', op: '>', value: 0.5 } as const;
const sgd = { type: 'param', key: 'opt', op: '=', value: 'sgd' } as const;
const finished = { type: 'attribute', name: 'status', op: '=', value: 'FINISHED' } as const;

function syntaxError(run: () => unknown): FilterSyntaxError {
  try {
    run();
  } catch (error) {
    if (error instanceof FilterSyntaxError) return error;
    throw error;
  }
  throw new Error('expected a FilterSyntaxError');
}

describe('parseFilter', () => {
  it.each(['', '   ', '\n\t'])('treats %j as no filter', (text) => {
    expect(parseFilter(text)).toBeNull();
  });

  const valid: Array<[string, FilterExpr]> = [
    // identifiers and keys
    ['metrics.acc > 0.5', accAbove],
    ['metric.acc>0.5', accAbove],
    ['Metrics.acc  >  0.5', accAbove],
    ['metrics.train/loss <= 1e-3', { type: 'metric', key: 'train/loss', op: '<=', value: 0.001 }],
    ['metrics.val-loss>=.5', { type: 'metric', key: 'val-loss', op: '>=', value: 0.5 }],
    ['params.model.depth = "50"', { type: 'param', key: 'model.depth', op: '=', value: '50' }],
    ['param.lr == \'0.01\'', { type: 'param', key: 'lr', op: '=', value: '0.01' }],
    ['parameters.lr <> \'x\'', { type: 'param', key: 'lr', op: '!=', value: 'x' }],
    ['tags.`mlflow.user` = \'alice\'', { type: 'tag', key: 'mlflow.user', op: '=', value: 'alice' }],
    ['tags."my tag" != \'a\'', { type: 'tag', key: 'my tag', op: '!=', value: 'a' }],
    ['tag.mlflow.user = \'bob\'', { type: 'tag', key: 'mlflow.user', op: '=', value: 'bob' }],
    ['metrics.`a ``b``` = 1', { type: 'metric', key: 'a `b`', op: '=', value: 1 }],
    // strings and escapes
    ["tags.note = 'it''s'", { type: 'tag', key: 'note', op: '=', value: "it's" }],
    ["tags.note = 'it\\'s'", { type: 'tag', key: 'note', op: '=', value: "it's" }],
    ['tags.note = "say ""hi"""', { type: 'tag', key: 'note', op: '=', value: 'say "hi"' }],
    ["tags.path = 'C:\\data'", { type: 'tag', key: 'path', op: '=', value: 'C:\\data' }],
    ["tags.note = ''", { type: 'tag', key: 'note', op: '=', value: '' }],
    // numbers
    ['metrics.acc = +5', { type: 'metric', key: 'acc', op: '=', value: 5 }],
    ['metrics.acc > -2.5E2', { type: 'metric', key: 'acc', op: '>', value: -250 }],
    ['metrics.acc = NaN', { type: 'metric', key: 'acc', op: '=', value: Number.NaN }],
    ['metrics.acc != nan', { type: 'metric', key: 'acc', op: '!=', value: Number.NaN }],
    ['metrics.acc < Infinity', { type: 'metric', key: 'acc', op: '<', value: Infinity }],
    ['metrics.acc > -Infinity', { type: 'metric', key: 'acc', op: '>', value: -Infinity }],
    ['metrics.acc > -inf', { type: 'metric', key: 'acc', op: '>', value: -Infinity }],
    ["metrics.acc > '0.5'", accAbove],
    ["metrics.acc = 'NaN'", { type: 'metric', key: 'acc', op: '=', value: Number.NaN }],
    ['metrics.acc IN (1, 2.5,NaN)', { type: 'metric', key: 'acc', op: 'IN', values: [1, 2.5, Number.NaN] }],
    ["metrics.acc not in ('1')", { type: 'metric', key: 'acc', op: 'NOT IN', values: [1] }],
    ['metrics.acc IS NULL', { type: 'metric', key: 'acc', op: 'IS NULL' }],
    ['metrics.acc is not null', { type: 'metric', key: 'acc', op: 'IS NOT NULL' }],
    // params and tags: the literal's type decides how they compare
    ['params.lr < 0.05', { type: 'param', key: 'lr', op: '<', value: 0.05 }],
    ["params.lr < '0.05'", { type: 'param', key: 'lr', op: '<', value: '0.05' }],
    ["params.x IN ('a', 1)", { type: 'param', key: 'x', op: 'IN', values: ['a', 1] }],
    ["params.x LIKE 'a%'", { type: 'param', key: 'x', op: 'LIKE', pattern: 'a%' }],
    ["params.x not ilike '%A_'", { type: 'param', key: 'x', op: 'NOT ILIKE', pattern: '%A_' }],
    ["tags.x ILIKE 'a'", { type: 'tag', key: 'x', op: 'ILIKE', pattern: 'a' }],
    ["tags.x NOT LIKE 'a'", { type: 'tag', key: 'x', op: 'NOT LIKE', pattern: 'a' }],
    ['tags.x IS NULL', { type: 'tag', key: 'x', op: 'IS NULL' }],
    // attributes, with prefixes, aliases and bare names
    ["attributes.status = 'FINISHED'", finished],
    ["status = 'FINISHED'", finished],
    ["attr.STATUS='FINISHED'", finished],
    ["run.id IN ('a', 'b')", { type: 'attribute', name: 'run_id', op: 'IN', values: ['a', 'b'] }],
    ["name LIKE 'base%'", { type: 'attribute', name: 'run_name', op: 'LIKE', pattern: 'base%' }],
    ["attributes.`run name` = 'x'", { type: 'attribute', name: 'run_name', op: '=', value: 'x' }],
    ["user = 'alice'", { type: 'attribute', name: 'user_id', op: '=', value: 'alice' }],
    ['attributes.created > 5', { type: 'attribute', name: 'start_time', op: '>', value: 5 }],
    ["Start_Time <= '1700000000000'", { type: 'attribute', name: 'start_time', op: '<=', value: 1_700_000_000_000 }],
    ['end_time IS NULL', { type: 'attribute', name: 'end_time', op: 'IS NULL' }],
    ["lifecycle_stage != 'deleted'", { type: 'attribute', name: 'lifecycle_stage', op: '!=', value: 'deleted' }],
    ['parent_run_id IS NOT NULL', { type: 'attribute', name: 'parent_run_id', op: 'IS NOT NULL' }],
    ["experiment_id = '1'", { type: 'attribute', name: 'experiment_id', op: '=', value: '1' }],
    // boolean structure: NOT > AND > OR
    [
      "metrics.acc > 0.5 OR params.opt = 'sgd' AND status = 'FINISHED'",
      { type: 'or', operands: [accAbove, { type: 'and', operands: [sgd, finished] }] },
    ],
    [
      "(metrics.acc > 0.5 or params.opt = 'sgd') and status = 'FINISHED'",
      { type: 'and', operands: [{ type: 'or', operands: [accAbove, sgd] }, finished] },
    ],
    [
      "NOT metrics.acc > 0.5 AND params.opt = 'sgd'",
      { type: 'and', operands: [{ type: 'not', operand: accAbove }, sgd] },
    ],
    [
      "metrics.acc > 0.5 aNd params.opt = 'sgd' AND status = 'FINISHED'",
      { type: 'and', operands: [accAbove, sgd, finished] },
    ],
    ['not not(metrics.acc > 0.5)', { type: 'not', operand: { type: 'not', operand: accAbove } }],
    ['((metrics.acc > 0.5))', accAbove],
    ["NOT(status='FINISHED')OR(metrics.acc>0.5)", { type: 'or', operands: [{ type: 'not', operand: finished }, accAbove] }],
  ];

  it.each(valid)('parses %s', (text, expected) => {
    expect(parseFilter(text)).toEqual(expected);
  });

  const invalid: Array<[string, number, string]> = [
    ['metrics.acc foo', 12, 'expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS) after metrics.acc, found "foo"'],
    ["params.x = 'abc", 11, "unterminated string: the ' at position 11 is never closed"],
    ['metrics.`acc = 1', 8, 'unterminated key'],
    ['metrics."" = 1', 8, 'empty key after "metrics."'],
    ['foo.bar = 1', 0, 'unknown prefix "foo": expected metrics., params., tags. or attributes.'],
    ['metrics. > 1', 8, 'missing key after "metrics.", found ">"'],
    ['metrics = 1', 7, 'missing key after metrics: write metrics.<key>'],
    ['metrics.acc >', 13, 'expected a value (a quoted string or a number) after metrics.acc >, found end of input'],
    ['params.x = NULL', 11, 'to test for a missing value use IS NULL'],
    ['params.x = foo', 11, "found \"foo\"; quote text values, as in 'foo'"],
    ['(metrics.acc > 1', 16, 'expected AND, OR or ")" to close the "(" at position 0, found end of input'],
    ['metrics.acc > 1)', 15, 'unbalanced ")"'],
    ["metrics.acc > 1 params.x = 'a'", 16, 'expected AND, OR or the end of the filter, found "params.x"'],
    ['metrics.acc > 1 AND', 19, 'expected a condition such as metrics.acc > 0.5, found end of input'],
    ['AND metrics.acc > 1', 0, 'found "AND"'],
    ['()', 1, 'expected a condition such as metrics.acc > 0.5, found ")"'],
    ['params.x IN ()', 13, 'the IN list of params.x is empty: give at least one value'],
    ["params.x IN ('a',)", 17, 'expected a value (a quoted string or a number) in the IN list of params.x, found ")"'],
    ["params.x IN ('a' 'b')", 17, 'expected "," or ")" in the IN list of params.x opened at position 12, found "\'b\'"'],
    ["params.x IN 'a'", 12, 'expected "(" to start the IN list of params.x, found "\'a\'"'],
    ["metrics.acc < 'high'", 14, "metrics.acc holds numbers: expected a number, NaN or Infinity, found the string 'high'"],
    ["metrics.acc IN (1, 'x')", 19, 'metrics.acc holds numbers'],
    ["metrics.acc LIKE '0.%'", 12, 'LIKE does not apply to metrics.acc: metric values are numbers'],
    ["metrics.acc NOT ILIKE '0.%'", 12, 'NOT ILIKE does not apply to metrics.acc'],
    ['metrics.acc < NaN', 14, 'NaN cannot be compared with <: use = NaN or != NaN'],
    ["attributes.colour = 'red'", 11, 'unknown attribute "colour" (known: run_id, run_name, status'],
    ["colour = 'red'", 0, 'for a metric, param or tag write metrics.colour, params.colour or tags.colour'],
    ['metrics.acc > 1.2.3', 14, 'invalid number "1.2.3"'],
    ['metrics.acc > 12abc', 14, 'invalid number "12abc"'],
    ['metrics.acc > -', 14, 'invalid number "-"'],
    ['metrics.acc > 1e999', 14, 'number 1e999 is out of range'],
    ['params.x = NaN', 11, "NaN is a value only for metrics; to compare params.x with the text NaN, quote it: 'NaN'"],
    ['params.x LIKE 5', 14, "LIKE needs a quoted pattern such as '%5%', found 5"],
    ['status = 5', 9, "attribute status holds text: quote the value, as in '5'"],
    ["run_name > 'a'", 9, '> does not apply to attribute run_name, which holds text'],
    ["start_time LIKE '1%'", 11, 'LIKE does not apply to attribute start_time'],
    ["start_time > 'yesterday'", 13, "expected a finite number, found the string 'yesterday'"],
    ['end_time < Infinity', 11, 'expected a finite number, found Infinity'],
    ["params.x IS 'a'", 12, 'expected NULL or NOT NULL after IS, found "\'a\'"'],
    ['params.x IS NOT 1', 16, 'expected NULL after IS NOT, found "1"'],
    ["params.x NOT = 'a'", 13, 'expected LIKE, ILIKE or IN after NOT, found "="'],
    ["params.x ! 'a'", 9, 'expected a comparison operator'],
    ['NOT', 3, 'expected a condition'],
  ];

  it.each(invalid)('rejects %s at position %i', (text, position, fragment) => {
    const error = syntaxError(() => parseFilter(text));
    expect(error.position).toBe(position);
    expect(error.details).toMatchObject({ position });
    expect(error.message).toContain(fragment);
  });

  it('points at the offending position with a caret under the quoted filter', () => {
    const error = syntaxError(() => parseFilter("metrics.acc > 0.5 and metrics.acc foo"));
    expect(error.message).toBe(
      [
        'Invalid filter at position 34: expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS) after metrics.acc, found "foo"',
        'metrics.acc > 0.5 and metrics.acc foo',
        '                                  ^',
      ].join('\n'),
    );
  });

  it('keeps the caret aligned in a multi-line filter', () => {
    const error = syntaxError(() => parseFilter('metrics.acc > 1\nAND\tbogus = 1'));
    const [, shown, caret] = error.message.split('\n');
    expect(shown).toBe('metrics.acc > 1 AND bogus = 1');
    expect(caret).toBe(`${' '.repeat(20)}^`);
  });

  it('is a ValidationFailed carrying the reason and position as details', () => {
    const error = syntaxError(() => parseFilter('metrics.acc ~ 1'));
    expect(error).toBeInstanceOf(ValidationFailed);
    expect(error.kind).toBe('validation');
    expect(error.name).toBe('FilterSyntaxError');
    expect(error.details).toEqual({ position: 12, reason: error.reason });
  });

  it('limits nesting instead of overflowing the stack', () => {
    const deep = `${'('.repeat(5000)}metrics.acc > 1${')'.repeat(5000)}`;
    expect(syntaxError(() => parseFilter(deep)).reason).toContain('more than 100 levels deep');
    const fine = `${'('.repeat(50)}metrics.acc > 0.5${')'.repeat(50)}`;
    expect(parseFilter(fine)).toEqual(accAbove);
  });
});

describe('parseOrderBy', () => {
  const valid: Array<[string[] | string, OrderTerm[]]> = [
    [[], []],
    ['  ', []],
    [['metrics.acc DESC'], [{ target: { type: 'metric', key: 'acc' }, direction: 'DESC' }]],
    [['metrics.`my metric`'], [{ target: { type: 'metric', key: 'my metric' }, direction: 'ASC' }]],
    [['params.lr asc'], [{ target: { type: 'param', key: 'lr' }, direction: 'ASC' }]],
    [['tags."mlflow.user" desc'], [{ target: { type: 'tag', key: 'mlflow.user' }, direction: 'DESC' }]],
    [['attributes.start_time DESC'], [{ target: { type: 'attribute', name: 'start_time' }, direction: 'DESC' }]],
    [['created'], [{ target: { type: 'attribute', name: 'start_time' }, direction: 'ASC' }]],
    [
      ['status', 'run_name DESC'],
      [
        { target: { type: 'attribute', name: 'status' }, direction: 'ASC' },
        { target: { type: 'attribute', name: 'run_name' }, direction: 'DESC' },
      ],
    ],
    [
      'metrics.acc DESC, end_time',
      [
        { target: { type: 'metric', key: 'acc' }, direction: 'DESC' },
        { target: { type: 'attribute', name: 'end_time' }, direction: 'ASC' },
      ],
    ],
  ];

  it.each(valid)('parses %j', (items, expected) => {
    expect(parseOrderBy(items)).toEqual(expected);
  });

  const invalid: Array<[string[] | string, number, number, string]> = [
    [['start_time', 'metrics.acc DOWN'], 1, 12, 'expected ASC, DESC, "," or the end after metrics.acc, found "DOWN"'],
    [['bogus'], 0, 0, 'unknown attribute "bogus"'],
    [['start_time', ''], 1, 0, 'expected a metric, param, tag or attribute to order by'],
    [['metrics.'], 0, 8, 'missing key after "metrics."'],
    ['metrics.acc DESC,', 0, 17, 'expected a metric, param, tag or attribute to order by'],
    [['DESC'], 0, 0, 'found "DESC"'],
  ];

  it.each(invalid)('rejects %j (item %i, position %i)', (items, index, position, fragment) => {
    const error = syntaxError(() => parseOrderBy(items));
    expect(error.details).toMatchObject({ orderByIndex: index, position });
    expect(error.message).toMatch(/^Invalid order-by term at position \d+: /);
    expect(error.message).toContain(fragment);
  });
});
