import type { KeyValue } from '@chronicle/domain';
import type { ExperimentView } from '@chronicle/projections';
import { invalidParameter } from '../wire.js';

/**
 * MLflow's experiment search: a conjunction (`AND` only, as in MLflow) of comparisons on
 * `name`, `creation_time`, `last_update_time` and `tags.<key>`. Experiments number in the
 * hundreds, so matching runs in memory over the read model.
 */
export interface ExperimentRow {
  experiment: ExperimentView;
  tags: readonly KeyValue[];
}

type Op = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE';
type Target = { kind: 'name' } | { kind: 'time'; field: 'createdAt' | 'updatedAt' } | { kind: 'tag'; key: string };
interface Clause {
  target: Target;
  op: Op;
  value: string | number;
}

const ATTRIBUTES: Record<string, Target> = {
  name: { kind: 'name' },
  creation_time: { kind: 'time', field: 'createdAt' },
  last_update_time: { kind: 'time', field: 'updatedAt' },
};

/** Splits into identifiers, quoted strings, numbers and operators; quoted text keeps its quotes out. */
function tokenize(text: string): { type: 'word' | 'string' | 'number' | 'op'; text: string; pos: number }[] {
  const out: { type: 'word' | 'string' | 'number' | 'op'; text: string; pos: number }[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"' || c === '`') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw bad(`unterminated quote starting at position ${start}`);
      out.push({ type: c === '`' ? 'word' : 'string', text: text.slice(i + 1, end), pos: start });
      i = end + 1;
      // `tags."a b"` and `tags.\`a b\`` continue a word that ended with a dot.
      const prev = out[out.length - 2];
      if (prev?.type === 'word' && prev.text.endsWith('.') && prev.pos + prev.text.length === start) {
        out.pop();
        prev.text += text.slice(start + 1, end);
      }
      continue;
    }
    const op = /^(<=|>=|!=|<>|==|=|<|>)/.exec(text.slice(i));
    if (op) {
      out.push({ type: 'op', text: op[1] === '<>' ? '!=' : op[1] === '==' ? '=' : op[1]!, pos: start });
      i += op[1]!.length;
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(text.slice(i));
    if (num && (out.length === 0 || out[out.length - 1]!.type === 'op')) {
      out.push({ type: 'number', text: num[0], pos: start });
      i += num[0].length;
      continue;
    }
    const word = /^[\w.:/-]+/.exec(text.slice(i));
    if (!word) throw bad(`unexpected character '${c}' at position ${i}`);
    out.push({ type: 'word', text: word[0], pos: start });
    i += word[0].length;
  }
  return out;
}

function bad(reason: string) {
  return invalidParameter(`Invalid experiment filter: ${reason}`);
}

function targetOf(identifier: string): Target {
  const dot = identifier.indexOf('.');
  const prefix = dot < 0 ? '' : identifier.slice(0, dot).toLowerCase();
  const rest = dot < 0 ? identifier : identifier.slice(dot + 1);
  if (prefix === 'tags' || prefix === 'tag') {
    if (!rest) throw bad('missing tag key after "tags."');
    return { kind: 'tag', key: rest };
  }
  if (prefix === '' || prefix === 'attribute' || prefix === 'attributes') {
    const t = ATTRIBUTES[rest.toLowerCase()];
    if (t) return t;
  }
  throw bad(`invalid identifier "${identifier}": use name, creation_time, last_update_time or tags.<key>`);
}

export function parseExperimentFilter(text: string | undefined): Clause[] {
  if (!text || !text.trim()) return [];
  const tokens = tokenize(text);
  const clauses: Clause[] = [];
  let i = 0;
  while (i < tokens.length) {
    const id = tokens[i++];
    if (!id || id.type !== 'word') throw bad(`expected an identifier at position ${id?.pos ?? text.length}`);
    const target = targetOf(id.text);
    const opToken = tokens[i++];
    let op: Op;
    if (opToken?.type === 'op') op = opToken.text as Op;
    else if (opToken?.type === 'word' && /^i?like$/i.test(opToken.text)) op = opToken.text.toUpperCase() as Op;
    else throw bad(`expected a comparison operator after "${id.text}"`);
    const v = tokens[i++];
    if (!v || (v.type !== 'string' && v.type !== 'number')) throw bad(`expected a value after "${id.text} ${op}"`);
    if (target.kind === 'time') {
      if (v.type !== 'number' || op === 'LIKE' || op === 'ILIKE')
        throw bad(`${id.text} compares with a number of milliseconds using =, !=, <, <=, > or >=`);
      clauses.push({ target, op, value: Number(v.text) });
    } else {
      if (v.type !== 'string') throw bad(`${id.text} compares with a quoted string`);
      if (!['=', '!=', 'LIKE', 'ILIKE'].includes(op)) throw bad(`${id.text} supports =, !=, LIKE and ILIKE`);
      clauses.push({ target, op, value: v.text });
    }
    const next = tokens[i];
    if (next === undefined) break;
    if (next.type !== 'word' || next.text.toUpperCase() !== 'AND') throw bad(`expected AND at position ${next.pos} (OR is not supported)`);
    i++;
    if (i >= tokens.length) throw bad('a condition must follow AND');
  }
  return clauses;
}

/** SQL LIKE: % any run, _ one character; case-sensitive unless ILIKE. */
function likeMatches(value: string, pattern: string, insensitive: boolean): boolean {
  const re = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${re}$`, insensitive ? 'si' : 's').test(value);
}

function matches(row: ExperimentRow, c: Clause): boolean {
  let actual: string | number | undefined;
  if (c.target.kind === 'name') actual = row.experiment.name;
  else if (c.target.kind === 'time') actual = row.experiment[c.target.field];
  else {
    const key = c.target.key;
    actual = row.tags.find((t) => t.key === key)?.value;
  }
  if (actual === undefined) return false;
  switch (c.op) {
    case '=':
      return actual === c.value;
    case '!=':
      return actual !== c.value;
    case '<':
      return actual < c.value;
    case '<=':
      return actual <= c.value;
    case '>':
      return actual > c.value;
    case '>=':
      return actual >= c.value;
    case 'LIKE':
      return likeMatches(String(actual), String(c.value), false);
    case 'ILIKE':
      return likeMatches(String(actual), String(c.value), true);
  }
}

type OrderKey = 'name' | 'experimentId' | 'createdAt' | 'updatedAt';
const ORDER_FIELDS: Record<string, OrderKey> = {
  name: 'name',
  experiment_id: 'experimentId',
  creation_time: 'createdAt',
  last_update_time: 'updatedAt',
};

export function parseExperimentOrderBy(items: readonly string[]): { key: OrderKey; desc: boolean }[] {
  return items.map((item) => {
    const m = /^\s*(?:attributes?\.)?(\w+)\s*(ASC|DESC)?\s*$/i.exec(item);
    const key = m ? ORDER_FIELDS[m[1]!.toLowerCase()] : undefined;
    if (!m || !key) throw invalidParameter(`Invalid order_by clause '${item}': order by name, experiment_id, creation_time or last_update_time, then ASC or DESC`);
    return { key, desc: (m[2] ?? 'ASC').toUpperCase() === 'DESC' };
  });
}

/** Filters and orders; the default order is MLflow's: newest first, then by id. */
export function searchExperiments(rows: readonly ExperimentRow[], filter: string | undefined, orderBy: readonly string[]): ExperimentRow[] {
  const clauses = parseExperimentFilter(filter);
  const order = parseExperimentOrderBy(orderBy);
  if (!order.some((o) => o.key === 'createdAt')) order.push({ key: 'createdAt', desc: true });
  if (!order.some((o) => o.key === 'experimentId')) order.push({ key: 'experimentId', desc: false });
  return rows
    .filter((r) => clauses.every((c) => matches(r, c)))
    .sort((a, b) => {
      for (const o of order) {
        const x = a.experiment[o.key];
        const y = b.experiment[o.key];
        if (x === y) continue;
        const less = x < y ? -1 : 1;
        return o.desc ? -less : less;
      }
      return 0;
    });
}
