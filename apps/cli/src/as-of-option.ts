import { InvalidArgumentError, Option } from 'commander';

/**
 * `--as-of <position|time>` for commands that read: a whole number is a global position of the
 * log, anything else must parse as an ISO 8601 date or time. Checked here, so a typo is a usage
 * error rather than a server round trip; the server still refuses positions beyond the head.
 */
export function parseAsOfOption(raw: string): number | string {
  const s = raw.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('the position is too large.');
    return n;
  }
  if (s !== '' && !Number.isNaN(Date.parse(s))) return s;
  throw new InvalidArgumentError('expected a log position (a whole number) or an ISO 8601 date/time, e.g. 2026-11-27T09:00:00Z.');
}

export const asOfOption = () =>
  new Option('--as-of <position|time>', 'show the state at that point of the log: a global position or an ISO 8601 date/time').argParser(parseAsOfOption);

/** The SDK read options for a parsed `--as-of`, or none. */
export const asOfOf = (opts: { asOf?: number | string }) => (opts.asOf === undefined ? {} : { asOf: opts.asOf });
