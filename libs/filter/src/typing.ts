import {
  isTimeAttribute,
  type CompareOp,
  type Comparison,
  type EntryPredicate,
  type InOp,
  type LikeOp,
  type MetricComparison,
  type NullOp,
  type TextAttributeComparison,
  type TextAttributeRef,
  type TimeAttributeComparison,
  type TimeAttributeRef,
  type MetricRef,
} from './ast.js';
import type { ParsedIdentifier } from './identifier.js';
import { numberFromText } from './scanner.js';

/** A literal as written, before the type rules of its target apply. */
export type RawValue = {
  position: number;
  /** The literal as written, for messages. */
  text: string;
} & ({ kind: 'string'; value: string } | { kind: 'number'; value: number; special: boolean });

export type RawPredicate = { position: number } & (
  | { op: CompareOp; value: RawValue }
  | { op: LikeOp; value: RawValue }
  | { op: InOp; values: RawValue[] }
  | { op: NullOp }
);

export type Fail = (reason: string, position: number) => never;

/** Applies the type rules of the identifier's target to a raw predicate. */
export function typeComparison(
  identifier: ParsedIdentifier,
  predicate: RawPredicate,
  fail: Fail,
): Comparison {
  const { ref, text } = identifier;
  switch (ref.type) {
    case 'metric':
      return metricComparison(ref, text, predicate, fail);
    case 'param':
    case 'tag':
      return { ...ref, ...entryPredicate(text, predicate, fail) };
    case 'attribute':
      return isTimeAttributeRef(ref)
        ? timeComparison(ref, `attribute ${ref.name}`, predicate, fail)
        : textComparison(ref, `attribute ${ref.name}`, predicate, fail);
  }
}

function isTimeAttributeRef(ref: TimeAttributeRef | TextAttributeRef): ref is TimeAttributeRef {
  return isTimeAttribute(ref.name);
}

function metricComparison(
  ref: MetricRef,
  subject: string,
  predicate: RawPredicate,
  fail: Fail,
): MetricComparison {
  const toNumber = (v: RawValue) => metricNumber(v, subject, fail);
  switch (predicate.op) {
    case 'IS NULL':
    case 'IS NOT NULL':
      return { ...ref, op: predicate.op };
    case 'IN':
    case 'NOT IN':
      return { ...ref, op: predicate.op, values: predicate.values.map(toNumber) };
    case 'LIKE':
    case 'ILIKE':
    case 'NOT LIKE':
    case 'NOT ILIKE':
      return fail(
        `${predicate.op} does not apply to ${subject}: metric values are numbers (use =, !=, <, <=, >, >=, IN or IS NULL)`,
        predicate.position,
      );
    default: {
      const value = toNumber(predicate.value);
      if (Number.isNaN(value) && predicate.op !== '=' && predicate.op !== '!=') {
        fail(`NaN cannot be compared with ${predicate.op}: use = NaN or != NaN`, predicate.value.position);
      }
      return { ...ref, op: predicate.op, value };
    }
  }
}

function metricNumber(v: RawValue, subject: string, fail: Fail): number {
  if (v.kind === 'number') return v.value;
  const parsed = numberFromText(v.value);
  if (parsed !== undefined) return parsed.value;
  return fail(
    `${subject} holds numbers: expected a number, NaN or Infinity, found the string ${v.text}`,
    v.position,
  );
}

function entryPredicate(subject: string, predicate: RawPredicate, fail: Fail): EntryPredicate {
  const toValue = (v: RawValue) => entryValue(v, subject, fail);
  switch (predicate.op) {
    case 'IS NULL':
    case 'IS NOT NULL':
      return { op: predicate.op };
    case 'IN':
    case 'NOT IN':
      return { op: predicate.op, values: predicate.values.map(toValue) };
    case 'LIKE':
    case 'ILIKE':
    case 'NOT LIKE':
    case 'NOT ILIKE':
      return { op: predicate.op, pattern: likePattern(predicate.op, predicate.value, fail) };
    default:
      return { op: predicate.op, value: toValue(predicate.value) };
  }
}

function entryValue(v: RawValue, subject: string, fail: Fail): string | number {
  if (v.kind === 'number' && v.special) {
    return fail(
      `${v.text} is a value only for metrics; to compare ${subject} with the text ${v.text}, quote it: '${v.text}'`,
      v.position,
    );
  }
  return v.value;
}

function timeComparison(
  ref: TimeAttributeRef,
  subject: string,
  predicate: RawPredicate,
  fail: Fail,
): TimeAttributeComparison {
  const toTime = (v: RawValue) => timeValue(v, subject, fail);
  switch (predicate.op) {
    case 'IS NULL':
    case 'IS NOT NULL':
      return { ...ref, op: predicate.op };
    case 'IN':
    case 'NOT IN':
      return { ...ref, op: predicate.op, values: predicate.values.map(toTime) };
    case 'LIKE':
    case 'ILIKE':
    case 'NOT LIKE':
    case 'NOT ILIKE':
      return fail(
        `${predicate.op} does not apply to ${subject}, a time in milliseconds since the epoch (use =, !=, <, <=, >, >=, IN or IS NULL)`,
        predicate.position,
      );
    default:
      return { ...ref, op: predicate.op, value: toTime(predicate.value) };
  }
}

function timeValue(v: RawValue, subject: string, fail: Fail): number {
  const parsed = v.kind === 'number' ? v : numberFromText(v.value);
  if (parsed === undefined || parsed.special) {
    const found = v.kind === 'number' ? v.text : `the string ${v.text}`;
    return fail(
      `${subject} is a time in milliseconds since the epoch: expected a finite number, found ${found}`,
      v.position,
    );
  }
  return parsed.value;
}

function textComparison(
  ref: TextAttributeRef,
  subject: string,
  predicate: RawPredicate,
  fail: Fail,
): TextAttributeComparison {
  const toText = (v: RawValue) => textValue(v, subject, fail);
  switch (predicate.op) {
    case 'IS NULL':
    case 'IS NOT NULL':
      return { ...ref, op: predicate.op };
    case 'IN':
    case 'NOT IN':
      return { ...ref, op: predicate.op, values: predicate.values.map(toText) };
    case 'LIKE':
    case 'ILIKE':
    case 'NOT LIKE':
    case 'NOT ILIKE':
      return { ...ref, op: predicate.op, pattern: likePattern(predicate.op, predicate.value, fail) };
    case '=':
    case '!=':
      return { ...ref, op: predicate.op, value: toText(predicate.value) };
    default:
      return fail(
        `${predicate.op} does not apply to ${subject}, which holds text (use =, !=, LIKE, ILIKE, IN or IS NULL)`,
        predicate.position,
      );
  }
}

function textValue(v: RawValue, subject: string, fail: Fail): string {
  if (v.kind === 'string') return v.value;
  return fail(`${subject} holds text: quote the value, as in '${v.text}'`, v.position);
}

function likePattern(op: LikeOp, v: RawValue, fail: Fail): string {
  if (v.kind === 'string') return v.value;
  return fail(`${op} needs a quoted pattern such as '%${v.text}%', found ${v.text}`, v.position);
}
