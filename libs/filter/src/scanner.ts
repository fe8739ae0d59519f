import { FilterSyntaxError, type FilterSyntaxErrorOptions } from './errors.js';

/** Characters that end an unquoted key, so that `metrics.acc>0.5` needs no spaces. */
const KEY_DELIMITERS = new Set(['=', '!', '<', '>', '(', ')', ',', "'", '"', '`']);
const QUOTE_ESCAPABLE = new Set(["'", '"', '`', '\\']);
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const WHOLE_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL_NUMBERS = new Map([
  ['nan', Number.NaN],
  ['infinity', Number.POSITIVE_INFINITY],
  ['inf', Number.POSITIVE_INFINITY],
]);
const MAX_SHOWN = 30;

export type ScannedNumber = { value: number; special: boolean };

/** Reads a number written as text: a numeric literal, or NaN / Infinity / Inf with an optional sign. */
export function numberFromText(text: string): ScannedNumber | undefined {
  const trimmed = text.trim();
  if (WHOLE_NUMBER.test(trimmed)) return { value: Number(trimmed), special: false };
  const sign = trimmed.startsWith('-') ? -1 : 1;
  const special = SPECIAL_NUMBERS.get(trimmed.replace(/^[+-]/, '').toLowerCase());
  return special === undefined ? undefined : { value: sign * special, special: true };
}

/**
 * A cursor over the input. Lexing depends on what the parser expects next (a key may
 * contain dashes and dots, a double-quoted text is a key after a prefix but a string
 * after an operator), so the parser drives it rather than consuming a token stream.
 */
export class Scanner {
  pos = 0;

  constructor(
    readonly text: string,
    private readonly errorOptions: FilterSyntaxErrorOptions,
  ) {}

  fail(reason: string, position: number): never {
    throw new FilterSyntaxError(reason, this.text, position, this.errorOptions);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && isSpace(this.text[this.pos])) this.pos++;
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }

  peekChar(): string | undefined {
    return this.text[this.pos];
  }

  peekWord(): string | undefined {
    WORD.lastIndex = this.pos;
    return WORD.exec(this.text)?.[0];
  }

  /** Consumes `keyword` (case-insensitive) if it is the whole next word. */
  acceptKeyword(keyword: string): boolean {
    this.skipSpace();
    const word = this.peekWord();
    if (word?.toUpperCase() !== keyword) return false;
    this.pos += word.length;
    return true;
  }

  acceptChar(char: string): boolean {
    this.skipSpace();
    if (this.text[this.pos] !== char) return false;
    this.pos++;
    return true;
  }

  acceptSymbol(symbol: string): boolean {
    this.skipSpace();
    if (!this.text.startsWith(symbol, this.pos)) return false;
    this.pos += symbol.length;
    return true;
  }

  /**
   * Reads a quoted text at the cursor, which must be on the opening quote. A quote is
   * escaped by doubling it or with a backslash; any other backslash is kept as written,
   * so Windows paths need no escaping.
   */
  readQuoted(what: 'string' | 'key'): string {
    const start = this.pos;
    const quote = this.text[start];
    let out = '';
    this.pos++;
    while (this.pos < this.text.length) {
      const char = this.text[this.pos];
      const next = this.text[this.pos + 1];
      if (char === quote && next === quote) {
        out += quote;
        this.pos += 2;
      } else if (char === quote) {
        this.pos++;
        return out;
      } else if (char === '\\' && next !== undefined && QUOTE_ESCAPABLE.has(next)) {
        out += next;
        this.pos += 2;
      } else {
        out += char;
        this.pos++;
      }
    }
    return this.fail(`unterminated ${what}: the ${quote} at position ${start} is never closed`, start);
  }

  /** Reads an unquoted key or number: everything up to whitespace or an operator character. */
  readBare(): string {
    const start = this.pos;
    while (this.pos < this.text.length && !endsKey(this.text[this.pos])) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /**
   * Reads a number, or NaN / Infinity / Inf with an optional sign, if one starts at the
   * cursor. Fails on a malformed one such as `1.2.3` or `12abc`.
   */
  readNumber(): ScannedNumber | undefined {
    const start = this.pos;
    const word = this.peekWord();
    const startsNumber =
      /[0-9.+-]/.test(this.text[start] ?? '') ||
      (word !== undefined && numberFromText(word) !== undefined);
    if (!startsNumber) return undefined;
    const lexeme = this.readBare();
    const scanned = numberFromText(lexeme);
    if (scanned === undefined) return this.fail(`invalid number ${JSON.stringify(truncate(lexeme))}`, start);
    if (!scanned.special && !Number.isFinite(scanned.value)) {
      return this.fail(`number ${truncate(lexeme)} is out of range`, start);
    }
    return scanned;
  }

  /** Describes the next lexeme for a "found ..." message. */
  describeNext(): string {
    this.skipSpace();
    const char = this.text[this.pos];
    if (char === undefined) return 'end of input';
    return JSON.stringify(truncate(this.nextLexeme(char)));
  }

  private nextLexeme(char: string): string {
    const rest = this.text.slice(this.pos);
    if (char === "'" || char === '"' || char === '`') {
      const close = rest.indexOf(char, 1);
      return close === -1 ? rest : rest.slice(0, close + 1);
    }
    if (KEY_DELIMITERS.has(char)) return /^(?:==|!=|<>|<=|>=|.)/s.exec(rest)?.[0] ?? char;
    let end = 0;
    while (end < rest.length && !endsKey(rest[end])) end++;
    return rest.slice(0, end);
  }
}

function isSpace(char: string | undefined): boolean {
  return char !== undefined && /\s/.test(char);
}

function endsKey(char: string | undefined): boolean {
  return char === undefined || isSpace(char) || KEY_DELIMITERS.has(char);
}

function truncate(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}
