import { InvalidArgumentError } from 'commander';
import type { KeyValue, Role, TerminalStatus } from '@chronicle/sdk';

/** Option/argument parsers; a thrown InvalidArgumentError becomes a usage error (exit 2). */

export function integer(opts: { min?: number; max?: number } = {}) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected an integer.');
    if (opts.min !== undefined && n < opts.min) throw new InvalidArgumentError(`expected at least ${opts.min}.`);
    if (opts.max !== undefined && n > opts.max) throw new InvalidArgumentError(`expected at most ${opts.max}.`);
    return n;
  };
}

export function splitPair(raw: string): KeyValue {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got "${raw}".`);
  return { key: raw.slice(0, eq), value: raw.slice(eq + 1) };
}

/** For repeatable `--tag k=v` options and variadic `k=v...` arguments. */
export function collectPair(raw: string, previous: KeyValue[] | undefined): KeyValue[] {
  return [...(previous ?? []), splitPair(raw)];
}

export function collect(raw: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), raw];
}

/** A metric value as people type it: a number, or nan / inf / -inf in any case. */
export function parseMetricNumber(raw: string): number | undefined {
  const s = raw.trim();
  switch (s.toLowerCase()) {
    case 'nan':
      return Number.NaN;
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Number.POSITIVE_INFINITY;
    case '-inf':
    case '-infinity':
      return Number.NEGATIVE_INFINITY;
  }
  if (s === '') return undefined;
  const n = Number(s);
  return Number.isNaN(n) ? undefined : n;
}

export function metricPair(raw: string, previous: { key: string; value: number }[] | undefined) {
  const { key, value } = splitPair(raw);
  const n = parseMetricNumber(value);
  if (n === undefined) throw new InvalidArgumentError(`"${value}" is not a number (nan, inf and -inf are fine).`);
  return [...(previous ?? []), { key, value: n }];
}

export const ROLE_CHOICES = ['admin', 'maintainer', 'member', 'viewer'] as const;

export function role(raw: string): Role {
  const r = raw.toLowerCase();
  if (!(ROLE_CHOICES as readonly string[]).includes(r)) throw new InvalidArgumentError(`expected one of ${ROLE_CHOICES.join(', ')}.`);
  return r.toUpperCase() as Role;
}

export const STATUS_CHOICES = ['FINISHED', 'FAILED', 'KILLED'] as const;

export function terminalStatus(raw: string): TerminalStatus {
  const s = raw.toUpperCase();
  if (!(STATUS_CHOICES as readonly string[]).includes(s)) throw new InvalidArgumentError(`expected one of ${STATUS_CHOICES.join(', ')}.`);
  return s as TerminalStatus;
}
