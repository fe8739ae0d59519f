import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { ChronicleClient, MetricPointInput } from '@chronicle/sdk';
import { parseMetricNumber } from './args.js';
import { CliError } from './context.js';

export type ImportFormat = 'ndjson' | 'csv';

export interface ImportProgress {
  /** Points the server has acknowledged. */
  points: number;
  /** Bytes of the file read up to the last acknowledged batch. */
  bytes: number;
  totalBytes: number;
}

export interface ImportResult {
  runId: string;
  points: number;
  batches: number;
  /** Batches the server had already seen (e.g. a re-run of an interrupted import). */
  replayedBatches: number;
  ms: number;
}

export function formatOf(file: string, explicit?: ImportFormat): ImportFormat {
  if (explicit) return explicit;
  return /\.csv$/i.test(file) ? 'csv' : 'ndjson';
}

/**
 * Streams a file of points to the bulk endpoint in batches. Reading the next batch overlaps
 * with sending the previous one. Each batch's idempotency key is derived from the run, its
 * position and its content, so re-running an interrupted import skips what already landed.
 */
export async function importMetrics(
  client: ChronicleClient,
  runId: string,
  file: string,
  opts: { format: ImportFormat; batchSize: number; now?: () => number; onProgress?: (p: ImportProgress) => void },
): Promise<ImportResult> {
  const now = opts.now ?? Date.now;
  const started = now();
  const totalBytes = await stat(file).then(
    (s) => s.size,
    (e: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`, e.code ?? 'BAD_USER_INPUT');
    },
  );
  const parse = opts.format === 'csv' ? csvParser(file) : ndjsonParser(file);
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });

  let batch: MetricPointInput[] = [];
  let bytes = 0;
  let lineNo = 0;
  let batches = 0;
  let replayedBatches = 0;
  let acked = 0;
  let inflight: Promise<void> | null = null;

  const send = (points: MetricPointInput[], bytesAtEnd: number): Promise<void> => {
    const index = batches++;
    const first = acked;
    const body = JSON.stringify(points);
    const idempotencyKey = createHash('sha256').update(`import\0${runId}\0${index}\0${body}`).digest('hex').slice(0, 48);
    const p = client.runs.logMetrics(runId, points, { idempotencyKey }).then(
      (res) => {
        if (res.replayed) replayedBatches++;
        acked += points.length;
        opts.onProgress?.({ points: acked, bytes: bytesAtEnd, totalBytes });
      },
      (e: unknown) => {
        if (e instanceof Error)
          e.message = `batch ${index + 1} (from point ${first + 1}) failed: ${e.message}; ${first} points were imported before it, and re-running the same import skips them`;
        throw e;
      },
    );
    // Awaited before the next send; until then a failure must not count as unhandled.
    p.catch(() => {});
    return p;
  };

  try {
    for await (const line of lines) {
      lineNo++;
      bytes += Buffer.byteLength(line) + 1;
      const point = parse(line, lineNo);
      if (!point) continue;
      batch.push(point);
      if (batch.length >= opts.batchSize) {
        await inflight;
        inflight = send(batch, bytes);
        batch = [];
      }
    }
  } finally {
    lines.close();
    input.destroy();
  }
  await inflight;
  if (batch.length > 0) await send(batch, Math.min(bytes, totalBytes));
  if (batches === 0) throw new CliError(`${file} holds no points`);
  return { runId, points: acked, batches, replayedBatches, ms: now() - started };
}

type LineParser = (line: string, lineNo: number) => MetricPointInput | null;

function ndjsonParser(file: string): LineParser {
  return (line, lineNo) => {
    const s = line.trim();
    if (s === '') return null;
    let raw: unknown;
    try {
      raw = JSON.parse(s);
    } catch {
      throw new CliError(`${file} line ${lineNo}: not valid JSON`);
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw new CliError(`${file} line ${lineNo}: expected an object like {"key":"loss","value":0.5,"step":1}`);
    const o = raw as Record<string, unknown>;
    return point(file, lineNo, o['key'], o['value'], o['step'], o['timestamp']);
  };
}

function csvParser(file: string): LineParser {
  let columns: { key: number; value: number; step: number; timestamp: number } | null = null;
  return (line, lineNo) => {
    if (line.trim() === '') return null;
    const cells = splitCsvLine(line);
    if (!columns) {
      const names = cells.map((c) => c.trim().toLowerCase());
      const at = (n: string) => names.indexOf(n);
      columns = { key: at('key'), value: at('value'), step: at('step'), timestamp: at('timestamp') };
      if (columns.key < 0 || columns.value < 0)
        throw new CliError(`${file} line ${lineNo}: the header must name the columns key,step,value[,timestamp]`);
      return null;
    }
    const cell = (i: number) => (i < 0 ? undefined : cells[i]?.trim() || undefined);
    return point(file, lineNo, cell(columns.key), cell(columns.value), cell(columns.step), cell(columns.timestamp));
  };
}

/** One CSV record on one line, with RFC 4180 quoting ("a,b" and "" for a quote). */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function point(file: string, lineNo: number, key: unknown, value: unknown, step: unknown, timestamp: unknown): MetricPointInput {
  const where = `${file} line ${lineNo}`;
  if (typeof key !== 'string' || key === '') throw new CliError(`${where}: key is missing`);
  const v = typeof value === 'number' ? value : typeof value === 'string' ? parseMetricNumber(value) : undefined;
  if (v === undefined) throw new CliError(`${where}: value ${JSON.stringify(value ?? null)} is not a number (NaN, Infinity and -Infinity are fine)`);
  const p: MetricPointInput = { key, value: v };
  if (step !== undefined && step !== null) {
    const s = typeof step === 'number' ? step : Number(step);
    if (!Number.isSafeInteger(s)) throw new CliError(`${where}: step ${JSON.stringify(step)} is not an integer`);
    p.step = s;
  }
  if (timestamp !== undefined && timestamp !== null) {
    const t = typeof timestamp === 'number' ? timestamp : /^\d+$/.test(String(timestamp)) ? Number(timestamp) : Date.parse(String(timestamp));
    if (!Number.isSafeInteger(t) || t < 0)
      throw new CliError(`${where}: timestamp ${JSON.stringify(timestamp)} is neither milliseconds since the epoch nor an ISO date`);
    p.timestamp = t;
  }
  return p;
}
