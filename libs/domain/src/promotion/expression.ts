import { ValidationFailed } from '../errors.js';

/**
 * Metric rules of promotion gates: `metrics.auc >= 0.9`,
 * `metrics.loss <= champion.metrics.loss * 1.02`. A comparison of two arithmetic sides;
 * `metrics.x` is the candidate's latest value, `champion.metrics.x` that of the version
 * holding the target now. Keys with other characters are backquoted: metrics.`val-loss`.
 */
export type MetricOperand =
  | { kind: 'number'; value: number }
  | { kind: 'metric'; of: 'candidate' | 'champion'; key: string; position: number }
  | { kind: 'negate'; operand: MetricOperand }
  | { kind: 'binary'; op: '+' | '-' | '*' | '/'; left: MetricOperand; right: MetricOperand };

export const COMPARISONS = ['>=', '<=', '>', '<', '=', '!='] as const;
export type Comparison = (typeof COMPARISONS)[number];

export interface MetricRule {
  source: string;
  left: MetricOperand;
  op: Comparison;
  right: MetricOperand;
}

export const MAX_RULE_LENGTH = 500;

/** A rule that does not parse; the message quotes it with a caret under `position` (0-based). */
export class RuleSyntaxError extends ValidationFailed {
  constructor(reason: string, readonly source: string, readonly position: number) {
    super(`Invalid gate rule at position ${position}: ${reason}\n${source.replace(/\s/g, ' ')}\n${' '.repeat(position)}^`, {
      field: 'rule',
      rule: source,
      position,
      reason,
    });
  }
}

type Token =
  | { t: 'num'; value: number; pos: number }
  | { t: 'ident'; value: string; pos: number; quoted: boolean }
  | { t: 'op'; value: string; pos: number }
  | { t: 'end'; pos: number };

const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
const OPERATORS = ['>=', '<=', '!=', '==', '>', '<', '=', '+', '-', '*', '/', '(', ')', '.'];

function scan(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const rest = src.slice(i);
    const num = NUMBER.exec(rest);
    // A '.' right after an identifier is a path separator, not the start of `.5`.
    const prev = tokens[tokens.length - 1];
    if (num && !(ch === '.' && prev?.t === 'ident')) {
      tokens.push({ t: 'num', value: Number(num[0]), pos: i });
      i += num[0].length;
      continue;
    }
    const id = IDENT.exec(rest);
    if (id) {
      tokens.push({ t: 'ident', value: id[0], pos: i, quoted: false });
      i += id[0].length;
      continue;
    }
    if (ch === '`') {
      const close = src.indexOf('`', i + 1);
      if (close < 0) throw new RuleSyntaxError('unterminated backquoted key', src, i);
      if (close === i + 1) throw new RuleSyntaxError('empty backquoted key', src, i);
      tokens.push({ t: 'ident', value: src.slice(i + 1, close), pos: i, quoted: true });
      i = close + 1;
      continue;
    }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (!op) throw new RuleSyntaxError(`unexpected character "${ch}"`, src, i);
    tokens.push({ t: 'op', value: op === '==' ? '=' : op, pos: i });
    i += op.length;
  }
  tokens.push({ t: 'end', pos: src.length });
  return tokens;
}

const describe = (tok: Token) => (tok.t === 'end' ? 'the end of the rule' : tok.t === 'num' ? `number ${tok.value}` : `"${tok.value}"`);

/** Parses one metric rule; throws RuleSyntaxError with the position of the first problem. */
export function parseMetricRule(source: string): MetricRule {
  if (typeof source !== 'string' || source.trim() === '') throw new RuleSyntaxError('a rule is empty', String(source ?? ''), 0);
  if (source.length > MAX_RULE_LENGTH) throw new RuleSyntaxError(`a rule is at most ${MAX_RULE_LENGTH} characters`, source.slice(0, 40), 0);
  const tokens = scan(source);
  let at = 0;
  const peek = () => tokens[at]!;
  const next = () => tokens[at++]!;
  function fail(reason: string, tok: Token = peek()): never {
    throw new RuleSyntaxError(reason, source, tok.pos);
  }
  const opValue = () => {
    const tok = next();
    return tok.t === 'op' ? tok.value : '';
  };
  const isOp = (v: string) => {
    const tok = peek();
    return tok.t === 'op' && tok.value === v;
  };

  function metricPath(first: Token & { t: 'ident' }): MetricOperand {
    let of: 'candidate' | 'champion' = 'candidate';
    let head = first;
    if (!head.quoted && head.value === 'champion') {
      of = 'champion';
      if (!isOp('.')) fail('expected ".metrics.<key>" after "champion"');
      next();
      const tok = next();
      if (tok.t !== 'ident') fail('expected "metrics" after "champion."', tok);
      head = tok as Token & { t: 'ident' };
    }
    if (head.quoted || head.value !== 'metrics')
      fail(`unknown name "${head.value}"; use metrics.<key> or champion.metrics.<key>`, head);
    if (!isOp('.')) fail('expected "." and a metric key after "metrics"');
    next();
    const keyTok = peek();
    if (keyTok.t !== 'ident') fail(`expected a metric key, found ${describe(keyTok)}`);
    next();
    let key = (keyTok as Token & { t: 'ident' }).value;
    // Unquoted keys may be dotted (`metrics.val.auc`), as MLflow keys often are.
    while (!(keyTok as Token & { t: 'ident' }).quoted && isOp('.')) {
      next();
      const part = next();
      if (part.t !== 'ident' && part.t !== 'num') fail('expected the rest of the metric key after "."', part);
      key += `.${part.t === 'ident' ? part.value : String(part.value)}`;
    }
    return { kind: 'metric', of, key, position: first.pos };
  }

  function factor(): MetricOperand {
    const tok = next();
    if (tok.t === 'num') return { kind: 'number', value: tok.value };
    if (tok.t === 'ident') return metricPath(tok);
    if (tok.t === 'op' && tok.value === '-') return { kind: 'negate', operand: factor() };
    if (tok.t === 'op' && tok.value === '(') {
      const inner = sum();
      if (!isOp(')')) fail(`expected ")" to close the "(" at position ${tok.pos}, found ${describe(peek())}`);
      next();
      return inner;
    }
    return fail(`expected a number or metrics.<key>, found ${describe(tok)}`, tok);
  }
  function product(): MetricOperand {
    let left = factor();
    while (isOp('*') || isOp('/')) {
      const op = opValue() as '*' | '/';
      left = { kind: 'binary', op, left, right: factor() };
    }
    return left;
  }
  function sum(): MetricOperand {
    let left = product();
    while (isOp('+') || isOp('-')) {
      const op = opValue() as '+' | '-';
      left = { kind: 'binary', op, left, right: product() };
    }
    return left;
  }

  const left = sum();
  const opTok = peek();
  if (opTok.t !== 'op' || !(COMPARISONS as readonly string[]).includes(opTok.value))
    fail(`expected a comparison (${COMPARISONS.join(' ')}), found ${describe(opTok)}`);
  const op = opValue() as Comparison;
  const right = sum();
  if (peek().t !== 'end') fail(`unexpected ${describe(peek())} after the rule`);
  if (!mentionsCandidate(left) && !mentionsCandidate(right))
    throw new RuleSyntaxError('a rule must compare at least one of the candidate\'s metrics (metrics.<key>)', source, 0);
  return { source, left, op, right };
}

function mentionsCandidate(o: MetricOperand): boolean {
  switch (o.kind) {
    case 'number':
      return false;
    case 'metric':
      return o.of === 'candidate';
    case 'negate':
      return mentionsCandidate(o.operand);
    case 'binary':
      return mentionsCandidate(o.left) || mentionsCandidate(o.right);
  }
}

/** Every metric a rule reads, in order of appearance. */
export function metricRefs(o: MetricOperand): Extract<MetricOperand, { kind: 'metric' }>[] {
  switch (o.kind) {
    case 'number':
      return [];
    case 'metric':
      return [o];
    case 'negate':
      return metricRefs(o.operand);
    case 'binary':
      return [...metricRefs(o.left), ...metricRefs(o.right)];
  }
}

export type MetricValues = Readonly<Record<string, number>>;

/** The operand's value; the caller has checked every metric it reads is present. */
export function valueOf(o: MetricOperand, candidate: MetricValues, champion: MetricValues): number {
  switch (o.kind) {
    case 'number':
      return o.value;
    case 'metric':
      return (o.of === 'candidate' ? candidate : champion)[o.key] ?? Number.NaN;
    case 'negate':
      return -valueOf(o.operand, candidate, champion);
    case 'binary': {
      const l = valueOf(o.left, candidate, champion);
      const r = valueOf(o.right, candidate, champion);
      return o.op === '+' ? l + r : o.op === '-' ? l - r : o.op === '*' ? l * r : l / r;
    }
  }
}

/** NaN compares false with everything, so a NaN metric never passes a gate. */
export function compare(l: number, op: Comparison, r: number): boolean {
  switch (op) {
    case '>=':
      return l >= r;
    case '<=':
      return l <= r;
    case '>':
      return l > r;
    case '<':
      return l < r;
    case '=':
      return l === r;
    case '!=':
      return !Number.isNaN(l) && !Number.isNaN(r) && l !== r;
  }
}
