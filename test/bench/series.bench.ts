// metricSeries on one metric of 1,000,000 points, maxPoints 1000, over HTTP + GraphQL.
// Baseline, same run: the cheapest GraphQL round trip (`{ __typename }`) on the same server.
import { gql, startChronicle } from '../support/chronicle-process.js';
import { stats, type Stats } from './support.js';

export interface SeriesResult {
  points: number;
  series: Stats;
  floor: Stats;
  level: number;
  returned: number;
}

export async function benchSeries(points = 1_000_000, queries = 300): Promise<SeriesResult> {
  const server = await startChronicle();
  try {
    const headers = { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' };
    const run = await gql(server.url, 'mutation { startRun(input: { experimentId: "0" }) { id } }', {}, headers);
    const runId = run.body.data.startRun.id as string;
    const batch = 10_000;
    for (let b = 0; b < points / batch; b++) {
      const body = JSON.stringify(
        Array.from({ length: batch }, (_, i) => {
          const step = b * batch + i;
          return { key: 'loss', value: Math.exp(-step / 300_000) + Math.sin(step / 5000) * 0.05 + ((step * 7919) % 101) / 5000, step };
        }),
      );
      const res = await fetch(`${server.url}/api/v1/runs/${runId}/metrics`, { method: 'POST', headers, body });
      if (res.status !== 200) throw new Error(await res.text());
    }
    const query = 'query($r: ID!) { metricSeries(runId: $r, key: "loss", maxPoints: 1000) { level totalPoints points { step value } } }';
    const time = async (q: string, vars: Record<string, unknown>) => {
      const t = performance.now();
      const r = await gql(server.url, q, vars, headers);
      if (r.body.errors) throw new Error(JSON.stringify(r.body.errors));
      return { ms: performance.now() - t, r };
    };
    for (let i = 0; i < 20; i++) await time(query, { r: runId }); // warm-up
    const seriesMs: number[] = [];
    const floorMs: number[] = [];
    let last: { level: number; totalPoints: number; points: unknown[] } | null = null;
    for (let i = 0; i < queries; i++) {
      const s = await time(query, { r: runId });
      seriesMs.push(s.ms);
      last = s.r.body.data.metricSeries;
      floorMs.push((await time('{ __typename }', {})).ms);
    }
    if (last!.totalPoints !== points) throw new Error(`expected ${points} points, the series says ${last!.totalPoints}`);
    return { points, series: stats(seriesMs), floor: stats(floorMs), level: last!.level, returned: last!.points.length };
  } finally {
    await server.dispose();
  }
}
