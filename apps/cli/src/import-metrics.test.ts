import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChronicleClient, MetricPointInput } from '@chronicle/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { formatOf, importMetrics } from './import-metrics.js';

function fakeClient() {
  const batches: { points: MetricPointInput[]; key: string }[] = [];
  const client = {
    runs: {
      async logMetrics(runId: string, points: readonly MetricPointInput[], opts: { idempotencyKey: string }) {
        batches.push({ points: [...points], key: opts.idempotencyKey });
        return { runId, accepted: points.length, position: batches.length, replayed: false };
      },
    },
  } as unknown as ChronicleClient;
  return { client, batches };
}

const dir = mkdtempSync(join(tmpdir(), 'chronicle-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('importMetrics', () => {
  it('reads CSV columns in any order, with quoting, special values and ISO timestamps', async () => {
    const { client, batches } = fakeClient();
    const path = file('a.csv', 'value,key,timestamp\r\n0.5,"val, loss",5\r\n-inf,acc,1970-01-01T00:00:01Z\r\n\r\nNaN,"say ""hi""",\r\n');
    const res = await importMetrics(client, 'r1', path, { format: formatOf(path), batchSize: 10 });
    expect(res).toMatchObject({ points: 3, batches: 1 });
    expect(batches[0]!.points).toEqual([
      { key: 'val, loss', value: 0.5, timestamp: 5 },
      { key: 'acc', value: Number.NEGATIVE_INFINITY, timestamp: 1000 },
      { key: 'say "hi"', value: Number.NaN },
    ]);
  });

  it('batches NDJSON and derives the same idempotency keys from the same content', async () => {
    const lines = Array.from({ length: 5 }, (_, i) => JSON.stringify({ key: 'loss', value: i, step: i })).join('\n');
    const path = file('b.ndjson', lines);
    const first = fakeClient();
    const second = fakeClient();
    await importMetrics(first.client, 'r1', path, { format: 'ndjson', batchSize: 2 });
    await importMetrics(second.client, 'r1', path, { format: 'ndjson', batchSize: 2 });
    expect(first.batches.map((b) => b.points.length)).toEqual([2, 2, 1]);
    expect(second.batches.map((b) => b.key)).toEqual(first.batches.map((b) => b.key));
    expect(new Set(first.batches.map((b) => b.key)).size).toBe(3);
    // Another run gets other keys: the key is per run, per batch position, per content.
    const other = fakeClient();
    await importMetrics(other.client, 'r2', path, { format: 'ndjson', batchSize: 2 });
    expect(other.batches[0]!.key).not.toBe(first.batches[0]!.key);
  });

  it('names the file and line of a bad point, and refuses a header without key and value', async () => {
    const { client } = fakeClient();
    await expect(importMetrics(client, 'r1', file('c.ndjson', '{"key":"a","value":1}\n{"key":"a","value":1,"step":0.5}\n'), { format: 'ndjson', batchSize: 10 })).rejects.toThrow(
      /c\.ndjson line 2: step 0\.5 is not an integer/,
    );
    await expect(importMetrics(client, 'r1', file('d.csv', 'name,v\nx,1\n'), { format: 'csv', batchSize: 10 })).rejects.toThrow(
      /line 1: the header must name/,
    );
    await expect(importMetrics(client, 'r1', file('e.csv', 'key,value\n'), { format: 'csv', batchSize: 10 })).rejects.toThrow(/holds no points/);
  });
});
