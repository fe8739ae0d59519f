// Bulk metric ingestion, end to end: HTTP request -> event appended -> projected -> acknowledged.
// Baseline, same run: the same rows inserted straight into SQLite with a prepared statement.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase } from '@chronicle/event-store';
import { gql, startChronicle } from '../support/chronicle-process.js';
import { fmt, rssMb } from './support.js';

export interface IngestResult {
  points: number;
  pointsPerSecond: number;
  baselineRowsPerSecond: number;
  ratio: number;
  maxServerRssMb: number;
  batch: number;
  concurrency: number;
}

const KEYS = 10;

function body(batchNo: number, batch: number): string {
  // 10 keys x (batch / 10) steps, the shape a training loop's background flusher sends.
  const perKey = batch / KEYS;
  const parts: string[] = [];
  const ts = 1_700_000_000_000 + batchNo;
  for (let k = 0; k < KEYS; k++)
    for (let i = 0; i < perKey; i++) {
      const step = batchNo * perKey + i;
      parts.push(`{"key":"metric_${k}","value":${Math.sin(step / 1000) + k},"step":${step},"timestamp":${ts}}`);
    }
  return `[${parts.join(',')}]`;
}

export function baselineInsert(points: number, batch: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-baseline-'));
  try {
    const db = openSqliteDatabase(join(dir, 'baseline.db'));
    db.exec('CREATE TABLE points (run_id TEXT, key TEXT, step INTEGER, value REAL, timestamp INTEGER)');
    const insert = db.prepare('INSERT INTO points VALUES (?, ?, ?, ?, ?)');
    const tx = db.transaction((from: number) => {
      const perKey = batch / KEYS;
      for (let k = 0; k < KEYS; k++)
        for (let i = 0; i < perKey; i++) {
          const step = from * perKey + i;
          insert.run('run', `metric_${k}`, step, Math.sin(step / 1000) + k, 1_700_000_000_000);
        }
    });
    const t = performance.now();
    for (let b = 0; b < points / batch; b++) tx(b);
    const s = (performance.now() - t) / 1000;
    db.close();
    return points / s;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchIngest(points: number, batch = 10_000, concurrency = 2): Promise<IngestResult> {
  const server = await startChronicle({ env: { CHRONICLE_LOG_LEVEL: 'warn' } });
  try {
    const headers = { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' };
    const run = await gql(server.url, 'mutation { startRun(input: { experimentId: "0", name: "ingest-bench" }) { id } }', {}, headers);
    const runId = run.body.data.startRun.id as string;
    let maxRss = 0;
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMb(server.child.pid!))), 100);
    const batches = Math.ceil(points / batch);
    // Bodies are made before the clock starts: the client shares this 2-core machine, and
    // building JSON on the fly would measure the client instead of the server.
    const pool = Array.from({ length: Math.min(batches, 40) }, (_, b) => Buffer.from(body(b, batch)));
    // node:http with keep-alive costs the client less CPU than fetch, leaving more to the server.
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    const { hostname, port } = new URL(server.url);
    const post = (payload: Buffer) =>
      new Promise<void>((resolve, reject) => {
        const req = request(
          { agent, hostname, port, method: 'POST', path: `/api/v1/runs/${runId}/metrics`, headers: { ...headers, 'content-length': payload.length } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`ingest failed: ${res.statusCode} ${Buffer.concat(chunks)}`))));
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    let next = 0;
    let sent = 0;
    const started = performance.now();
    let lastReport = started;
    const worker = async () => {
      for (;;) {
        const b = next++;
        if (b >= batches) return;
        await post(pool[b % pool.length]!);
        sent += batch;
        if (performance.now() - lastReport > 5000) {
          lastReport = performance.now();
          process.stderr.write(`  ingest: ${fmt(sent)} points, ${fmt(sent / ((lastReport - started) / 1000), 0)} points/s, server RSS ${fmt(maxRss, 0)} MB\n`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    agent.destroy();
    maxRss = Math.max(maxRss, rssMb(server.child.pid!));
    // Acknowledged means queryable: check the count is all there.
    const check = await gql(server.url, 'query($r: ID!) { run(id: $r) { metrics { count } } }', { r: runId }, headers);
    const stored = (check.body.data.run.metrics as { count: number }[]).reduce((a, m) => a + m.count, 0);
    if (stored !== batches * batch) throw new Error(`expected ${batches * batch} points stored, found ${stored}`);
    const pps = (batches * batch) / seconds;
    const baseline = baselineInsert(batches * batch, batch);
    return { points: batches * batch, pointsPerSecond: pps, baselineRowsPerSecond: baseline, ratio: pps / baseline, maxServerRssMb: maxRss, batch, concurrency };
  } finally {
    await server.dispose();
  }
}
