import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createClient, type ChronicleClient } from '@chronicle/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliMain, ...args], { timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const RUNS = `query { runs(first: 1000, orderBy: ["attributes.name ASC"]) { totalCount nodes { id name status params { key value } tags { key value } metrics { key value step } } } }`;
const RUNS_AS_OF = `query($asOf: AsOf) { runs(first: 1000, orderBy: ["attributes.name ASC"], asOf: $asOf) { totalCount nodes { id name status params { key value } tags { key value } metrics { key value step } } } }`;
const HISTORY = `query($runId: ID!) { metricHistory(runId: $runId, key: "live", first: 100000) { totalCount points { step value } } }`;

async function health(url: string): Promise<{ head: number; projected: number }> {
  return (await (await fetch(`${url}/healthz`)).json()) as { head: number; projected: number };
}

describe('chronicle replay against a real server', () => {
  let server: ChronicleProcess;
  let client: ChronicleClient;

  beforeAll(async () => {
    server = await startChronicle();
    client = createClient({ url: server.url, token: server.adminToken });
    // A history of a few thousand events, each its own request.
    for (let r = 0; r < 6; r++) {
      const run = await client.startRun({ experimentName: 'replay-e2e', name: `run-${r}`, params: { r, model: r % 2 ? 'xgb' : 'lr' } });
      await Promise.all(
        Array.from({ length: 400 }, (_, step) => client.runs.logMetrics(run.id, [{ key: 'loss', value: 1 / (step + 1), step }])),
      );
      await run.finish();
    }
  }, 120_000);
  afterAll(async () => {
    await server?.dispose();
  });

  it('rebuilds while ingesting: loses no event, ends caught up, answers as before', async () => {
    const before = (await gql(server.url, RUNS)).body.data;
    const headBefore = (await health(server.url)).head;
    const live = await client.startRun({ experimentName: 'replay-e2e', name: 'zz-live' });
    let acknowledged = 0;
    let replaying = true;
    let queriesDuringReplay = 0;
    const writer = (async () => {
      for (let step = 0; replaying; step++) {
        await client.runs.logMetrics(live.id, [{ key: 'live', value: step, step }]);
        acknowledged++;
        // Every answer, mid-replay included, is a whole model: it holds every acknowledged point.
        const h = (await gql(server.url, HISTORY, { runId: live.id })).body.data.metricHistory;
        expect(h.totalCount).toBe(acknowledged);
        queriesDuringReplay++;
      }
    })();

    const replay = await cli(['--url', server.url, '--token', server.adminToken, '--json', 'replay']);
    replaying = false;
    await writer;
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    const result = JSON.parse(replay.stdout) as { position: number; events: number; tables: number };
    expect(result.position).toBeGreaterThan(headBefore);
    expect(result.tables).toBeGreaterThan(10);
    expect(queriesDuringReplay).toBeGreaterThan(0);

    const after = await health(server.url);
    expect(after.projected).toBe(after.head);
    const h = (await gql(server.url, HISTORY, { runId: live.id })).body.data.metricHistory;
    expect(h.totalCount).toBe(acknowledged);
    expect(h.points.map((p: { step: number }) => p.step)).toEqual(Array.from({ length: acknowledged }, (_, i) => i));
    const now = (await gql(server.url, RUNS)).body.data;
    expect(now.runs.nodes.filter((r: { name: string }) => r.name !== 'zz-live')).toEqual(before.runs.nodes);
    // Time travel reads the swapped-in file too: the past before the live run is as it was.
    expect((await gql(server.url, RUNS_AS_OF, { asOf: headBefore })).body.data).toEqual(before);
    // The scratch database is gone.
    expect(readdirSync(server.dataDir).filter((f) => f.startsWith('replay-'))).toEqual([]);
  }, 120_000);

  it('refuses a caller without the admin role, and reports no replay before the first', async () => {
    const fresh = await startChronicle({ env: { CHRONICLE_LOOPBACK_ROLE: 'viewer' } });
    try {
      const res = await fetch(`${fresh.url}/api/v1/admin/replay`, { method: 'POST' });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
      const status = await fetch(`${fresh.url}/api/v1/admin/replay`, { headers: { authorization: `Bearer ${fresh.adminToken}` } });
      expect(status.status).toBe(404);
    } finally {
      await fresh.dispose();
    }
  }, 60_000);

  it('replays a stopped server’s data directory offline, then serves the same answers', async () => {
    const before = (await gql(server.url, RUNS)).body.data;
    expect(await server.kill('SIGTERM')).toBe(0);
    const offline = await cli(['--json', 'replay', '--data-dir', server.dataDir]);
    expect(offline.code).toBe(0);
    const result = JSON.parse(offline.stdout) as { events: number; position: number };
    expect(result.events).toBe(result.position);
    server = await server.restart();
    expect((await gql(server.url, RUNS)).body.data).toEqual(before);
  }, 120_000);
});
