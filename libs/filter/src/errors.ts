import { ValidationFailed } from '@chronicle/domain';

export type FilterSubject = 'filter' | 'order-by term';

export type FilterSyntaxErrorOptions = {
  subject?: FilterSubject;
  /** Extra client-safe details, such as `orderByIndex`. */
  details?: Record<string, unknown>;
};

/**
 * A filter or order-by term that cannot be parsed or breaks a type rule.
 * The message quotes the input with a caret under `position` (0-based, in UTF-16 code units).
 */
export class FilterSyntaxError extends ValidationFailed {
  readonly position: number;
  /** The problem alone, without the position and the quoted input. */
  readonly reason: string;

  constructor(
    reason: string,
    input: string,
    position: number,
    options: FilterSyntaxErrorOptions = {},
  ) {
    const subject = options.subject ?? 'filter';
    super(`Invalid ${subject} at position ${position}: ${reason}\n${pointAt(input, position)}`, {
      ...options.details,
      position,
      reason,
    });
    this.position = position;
    this.reason = reason;
  }
}

function pointAt(input: string, position: number): string {
  // Line breaks and tabs inside a multi-line filter would shift the caret off its column.
  const oneLine = input.replace(/[\t\n\r\v\f]/g, ' ');
  return `${oneLine}\n${' '.repeat(position)}^`;
}
