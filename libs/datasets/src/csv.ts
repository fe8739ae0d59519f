import type { Readable } from 'node:stream';

export interface CsvSummary {
  columns: string[];
  rows: number;
}

/** Splits one CSV line, honouring double quotes ("a,b" is one field, "" is a quote). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') out.push(field), (field = '');
    else field += c;
  }
  out.push(field);
  return out;
}

const MAX_HEADER_BYTES = 1024 * 1024;

/**
 * Header and data-row count of a CSV stream, read once. Rows are counted as line breaks outside
 * quotes, so a quoted field spanning lines is one row; a missing final newline still ends a row.
 */
export async function summarizeCsv(content: Readable): Promise<CsvSummary> {
  let header: Buffer[] | null = [];
  let headerBytes = 0;
  let columns: string[] = [];
  let lines = 0;
  let quoted = false;
  let last = -1;
  for await (const chunk of content as AsyncIterable<Buffer>) {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === 0x22) quoted = !quoted;
      else if (b === 0x0a && !quoted) {
        lines++;
        if (header) {
          header.push(chunk.subarray(start, i));
          columns = splitCsvLine(Buffer.concat(header).toString('utf8').replace(/\r$/, '').replace(/^\uFEFF/, ''));
          header = null;
        }
      }
    }
    if (header && headerBytes < MAX_HEADER_BYTES) header.push(chunk.subarray(start)), (headerBytes += chunk.length - start);
    start = chunk.length;
    if (chunk.length) last = chunk[chunk.length - 1]!;
  }
  if (header && headerBytes > 0) {
    columns = splitCsvLine(Buffer.concat(header).toString('utf8').replace(/\r$/, '').replace(/^\uFEFF/, ''));
    lines++;
  } else if (last !== -1 && last !== 0x0a) lines++;
  return { columns, rows: Math.max(0, lines - 1) };
}
