import { TEXT_ATTRIBUTES, TIME_ATTRIBUTES, type AttributeName, type Identifier } from './ast.js';
import type { Scanner } from './scanner.js';

/** Maps (rather than object literals) so that a prefix such as `constructor` finds nothing. */
const PREFIXES = new Map<string, Identifier['type']>([
  ['metrics', 'metric'],
  ['metric', 'metric'],
  ['params', 'param'],
  ['param', 'param'],
  ['parameters', 'param'],
  ['tags', 'tag'],
  ['tag', 'tag'],
  ['attributes', 'attribute'],
  ['attribute', 'attribute'],
  ['attr', 'attribute'],
  ['run', 'attribute'],
]);

const ATTRIBUTE_NAMES = [...TEXT_ATTRIBUTES, ...TIME_ATTRIBUTES];
const ATTRIBUTES = new Map<string, AttributeName>([
  ...ATTRIBUTE_NAMES.map((name) => [name, name] as const),
  ['id', 'run_id'],
  ['name', 'run_name'],
  // MLflow's UI writes the run name as `attributes.`run name``.
  ['run name', 'run_name'],
  ['created', 'start_time'],
  ['user', 'user_id'],
]);

/** Words that can never start an identifier, so a misplaced one gets a clear message. */
const RESERVED = new Set(['AND', 'OR', 'NOT', 'LIKE', 'ILIKE', 'IN', 'IS', 'NULL', 'ASC', 'DESC']);

export type ParsedIdentifier = {
  ref: Identifier;
  /** The identifier as written, for messages. */
  text: string;
};

/**
 * Reads `<prefix>.<key>` or a bare attribute name (MLflow treats an identifier without a
 * prefix as an attribute). `expected` describes what belongs here, for the error message.
 */
export function readIdentifier(s: Scanner, expected: string): ParsedIdentifier {
  s.skipSpace();
  const start = s.pos;
  const word = s.peekWord();
  if (word === undefined || RESERVED.has(word.toUpperCase())) {
    return s.fail(`expected ${expected}, found ${s.describeNext()}`, start);
  }
  s.pos += word.length;
  const type = PREFIXES.get(word.toLowerCase());
  if (s.peekChar() !== '.') {
    if (type !== undefined) return s.fail(`missing key after ${word}: write ${word}.<key>`, s.pos);
    return { ref: { type: 'attribute', name: resolveAttribute(s, word, start, true) }, text: word };
  }
  if (type === undefined) {
    return s.fail(
      `unknown prefix "${word}": expected metrics., params., tags. or attributes.`,
      start,
    );
  }
  s.pos++;
  const keyStart = s.pos;
  const key = readKey(s, word);
  const text = s.text.slice(start, s.pos);
  if (type === 'attribute') {
    return { ref: { type, name: resolveAttribute(s, key, keyStart, false) }, text };
  }
  return { ref: { type, key }, text };
}

function readKey(s: Scanner, prefix: string): string {
  const start = s.pos;
  const char = s.peekChar();
  if (char === '`' || char === '"') {
    const key = s.readQuoted('key');
    return key === '' ? s.fail(`empty key after "${prefix}."`, start) : key;
  }
  const key = s.readBare();
  if (key === '') {
    return s.fail(`missing key after "${prefix}.", found ${s.describeNext()}`, start);
  }
  return key;
}

function resolveAttribute(s: Scanner, name: string, position: number, bare: boolean): AttributeName {
  const attribute = ATTRIBUTES.get(name.toLowerCase());
  if (attribute !== undefined) return attribute;
  const hint = bare
    ? `; for a metric, param or tag write metrics.${name}, params.${name} or tags.${name}`
    : '';
  return s.fail(
    `unknown attribute "${name}" (known: ${ATTRIBUTE_NAMES.join(', ')})${hint}`,
    position,
  );
}
