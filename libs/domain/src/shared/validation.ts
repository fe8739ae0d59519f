import { ValidationFailed } from '../errors.js';

// MLflow's limits, so that anything MLflow accepts Chronicle accepts too.
export const MAX_KEY_LENGTH = 250;
export const MAX_PARAM_VALUE_LENGTH = 6000;
export const MAX_TAG_VALUE_LENGTH = 8000;
export const MAX_NAME_LENGTH = 500;

// Letters, digits, underscores, dashes, periods, spaces, colons and slashes (MLflow's rule).
const KEY_PATTERN = /^[\p{L}\p{N}_\-. :/]+$/u;

export function validateKey(kind: string, key: unknown): string {
  if (typeof key !== 'string' || key.length === 0)
    throw new ValidationFailed(`${kind} key must be a non-empty string`, { field: `${kind}.key` });
  if (key.length > MAX_KEY_LENGTH)
    throw new ValidationFailed(`${kind} key "${key.slice(0, 40)}…" is longer than ${MAX_KEY_LENGTH} characters`, {
      field: `${kind}.key`,
    });
  if (!KEY_PATTERN.test(key) || key.includes('..') || key.startsWith('/'))
    throw new ValidationFailed(
      `${kind} key "${key}" may only contain letters, digits, underscores, dashes, periods, spaces, colons and slashes`,
      { field: `${kind}.key`, key },
    );
  return key;
}

export function validateText(field: string, value: unknown, max: number, opts: { allowEmpty?: boolean } = {}): string {
  if (typeof value !== 'string') throw new ValidationFailed(`${field} must be a string`, { field });
  if (!opts.allowEmpty && value.trim().length === 0) throw new ValidationFailed(`${field} must not be empty`, { field });
  if (value.length > max) throw new ValidationFailed(`${field} is longer than ${max} characters`, { field });
  return value;
}

export function validateTimestamp(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new ValidationFailed(`${field} must be a non-negative integer of milliseconds since the epoch`, { field });
  return value;
}

export interface KeyValue {
  key: string;
  value: string;
}
