import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { RecordedEvent } from '@chronicle/domain';
import type { LogReadAhead } from '../port.js';
import type { UpcasterRegistry } from '../upcasting/upcaster-registry.js';
import { EVENT_COLUMNS, EVENT_DATA, EVENT_SCHEMA_VERSION, EVENT_TYPE, EVENT_WIDTH, eventFromRow } from './event-row.js';

/** Batches a reader may run ahead of its consumer: enough to hide a slow batch, a few MB at most. */
const BATCHES_IN_FLIGHT = 4;

/**
 * One batch as it crosses threads. `fields` holds each event's row (EVENT_COLUMNS), its data
 * column either the JSON text or, for a packed metric batch, `PACKED`, which the run id, the
 * number of series and each series' key and length follow; the series' steps, values and
 * timestamps are consecutive runs of `numbers`.
 */
interface Packet {
  fields: unknown[];
  numbers: Float64Array;
  last: number;
}

const PACKED = 0;

// Evaluated, not loaded from a file, so the same code runs from TypeScript sources and from dist.
// Only metric batches of the current schema with plain numbers are packed: anything else (an old
// version for the upcasters, NaN spelled as a string, an unknown field) travels as its JSON text.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path, { readonly: true });
const read = db.prepare('SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?').raw(true);
const numeric = (a, n) => { if (!Array.isArray(a) || a.length !== n) return false; for (let i = 0; i < n; i++) if (typeof a[i] !== 'number') return false; return true; };
function packable(d) {
  if (d === null || typeof d !== 'object' || typeof d.runId !== 'string' || !Array.isArray(d.series) || Object.keys(d).length !== 2) return false;
  for (const s of d.series) {
    if (s === null || typeof s !== 'object' || typeof s.key !== 'string' || !Array.isArray(s.steps) || Object.keys(s).length !== 4) return false;
    const n = s.steps.length;
    if (!numeric(s.steps, n) || !numeric(s.values, n) || !numeric(s.timestamps, n)) return false;
  }
  return true;
}
let after = workerData.after;
let credit = ${BATCHES_IN_FLIGHT};
function pump() {
  while (credit > 0) {
    const rows = read.all(after, workerData.until, workerData.batchSize);
    if (rows.length === 0) return parentPort.postMessage(null);
    after = rows[rows.length - 1][0];
    const fields = [];
    const packed = [];
    let count = 0;
    for (const r of rows) {
      let d = null;
      if (r[${EVENT_TYPE}] === 'RunMetricsLogged' && r[${EVENT_SCHEMA_VERSION}] === workerData.metricsVersion) {
        d = JSON.parse(r[${EVENT_DATA}]);
        if (packable(d)) for (const s of d.series) count += 3 * s.steps.length;
        else d = null;
      }
      packed.push(d);
    }
    const numbers = new Float64Array(count);
    let o = 0;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const d = packed[i];
      if (d) r[${EVENT_DATA}] = ${PACKED};
      for (const v of r) fields.push(v);
      if (!d) continue;
      fields.push(d.runId, d.series.length);
      for (const s of d.series) {
        fields.push(s.key, s.steps.length);
        numbers.set(s.steps, o);
        numbers.set(s.values, o + s.steps.length);
        numbers.set(s.timestamps, o + 2 * s.steps.length);
        o += 3 * s.steps.length;
      }
    }
    credit--;
    parentPort.postMessage({ fields, numbers, last: after }, [numbers.buffer]);
  }
}
parentPort.on('message', () => {
  credit++;
  pump();
});
pump();
`;

const numbersOf = (numbers: Float64Array, from: number, n: number): number[] => {
  // A loop, not Array.from: V8 copies a typed array element by element through its iterator.
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(numbers[from + i]!);
  return out;
};

/**
 * Reads the log file at `path` on a worker thread, batch after batch from `after` up to `until`,
 * for a rebuild that reads all of it. The worker steps SQLite and parses the metric batches,
 * most of a log's events and bytes; they cross as one Float64Array per batch, so the thread
 * that projects only unpacks numbers. Other events cross as their JSON text.
 */
export function readAheadOnWorker(opts: {
  path: string;
  after: number;
  until: number;
  batchSize: number;
  upcasters: UpcasterRegistry;
}): LogReadAhead {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      sqlite: createRequire(import.meta.url).resolve('better-sqlite3'),
      path: opts.path,
      after: opts.after,
      until: opts.until,
      batchSize: opts.batchSize,
      metricsVersion: opts.upcasters.currentVersion('RunMetricsLogged'),
    },
  });
  const ready: (Packet | null)[] = [];
  let waiting: { resolve: (p: Packet | null) => void; reject: (e: unknown) => void } | null = null;
  let failure: unknown = null;
  let done = false;
  let next = opts.after;
  worker.on('message', (p: Packet | null) => {
    if (waiting) {
      waiting.resolve(p);
      waiting = null;
    } else ready.push(p);
  });
  const fail = (e: unknown) => {
    failure = e;
    waiting?.reject(e);
    waiting = null;
  };
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (!done && failure === null) fail(new Error(`the log reader thread exited with code ${code}`));
  });
  const take = (): Promise<Packet | null> => {
    if (ready.length > 0) return Promise.resolve(ready.shift()!);
    if (failure !== null) return Promise.reject(failure);
    return new Promise((resolve, reject) => (waiting = { resolve, reject }));
  };

  function unpack(p: Packet): RecordedEvent[] {
    const { fields: f, numbers } = p;
    const out: RecordedEvent[] = [];
    let o = 0;
    for (let i = 0; i < f.length; ) {
      const at = i;
      i += EVENT_WIDTH;
      let data: unknown;
      if (f[at + EVENT_DATA] !== PACKED) data = JSON.parse(f[at + EVENT_DATA] as string);
      else {
        const runId = f[i] as string;
        const count = f[i + 1] as number;
        i += 2;
        const series = [];
        for (let s = 0; s < count; s++, i += 2) {
          const n = f[i + 1] as number;
          // Keys in canonical (sorted) order, as parsing the stored text gives them.
          series.push({ key: f[i] as string, steps: numbersOf(numbers, o, n), timestamps: numbersOf(numbers, o + 2 * n, n), values: numbersOf(numbers, o + n, n) });
          o += 3 * n;
        }
        data = { runId, series };
      }
      out.push(opts.upcasters.upcast(eventFromRow(f, at, data)));
    }
    return out;
  }

  return {
    async read(after, limit) {
      if (done || after !== next || limit !== opts.batchSize) return null;
      const p = await take();
      if (p === null) {
        done = true;
        await worker.terminate();
        return null;
      }
      worker.postMessage(0);
      next = p.last;
      return unpack(p);
    },
    async close() {
      done = true;
      await worker.terminate();
    },
  };
}
