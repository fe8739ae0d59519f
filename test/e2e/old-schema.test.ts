import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { canonicalJson, chainHash, GENESIS_HASH, openSqliteDatabase } from '@chronicle/event-store';
import { afterAll, describe, expect, it } from 'vitest';
import { cliMain, gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

function cli(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliMain, ...args], { timeout: 60_000 }, (err, stdout) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }),
    );
  });
}

/** Appends events the way a release with the old schema did: raw rows, a correct hash chain, a head record. */
function writeOldEvents(dbPath: string, stream: string, events: { type: string; schemaVersion: number; data: unknown }[]): void {
  const db = openSqliteDatabase(dbPath);
  try {
    db.transaction(() => {
      let position = (db.prepare('SELECT max(position) AS p FROM events').get() as { p: number }).p;
      let previous = GENESIS_HASH;
      events.forEach((e, revision) => {
        const env = { id: randomUUID(), stream, revision, type: e.type, schemaVersion: e.schemaVersion, recordedAt: 1_600_000_000_000 + revision, actor: 'user:legacy', correlationId: 'legacy-import', causationId: null };
        const dataText = canonicalJson(e.data);
        const hash = chainHash(previous, env, dataText);
        db.prepare('INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)').run(
          ++position, env.id, stream, revision, env.type, env.schemaVersion, env.recordedAt, env.actor, env.correlationId, null, dataText, hash,
        );
        previous = hash;
      });
      db.prepare('INSERT INTO streams (stream, revision, hash) VALUES (?, ?, ?)').run(stream, events.length - 1, previous);
    })();
  } finally {
    db.close();
  }
}

const RUN = `query($id: ID!) { run(id: $id) { name status source { gitCommit entryPoint } params { key value } metrics { key value step } } }`;

describe('a log written with an old event schema', () => {
  let server: ChronicleProcess | undefined;
  afterAll(async () => {
    await server?.dispose();
  });

  it('is upcast on read, projected into the current read models, replayed, and still verifies', async () => {
    server = await startChronicle();
    expect(await server.kill('SIGTERM')).toBe(0);
    // RunStarted v1: no source, no environment.
    writeOldEvents(join(server.dataDir, 'chronicle.db'), 'run-legacy1', [
      { type: 'RunStarted', schemaVersion: 1, data: { runId: 'legacy1', experimentId: '0', name: 'from-2020', tags: [], parentRunId: null, startTime: 1_600_000_000_000 } },
      { type: 'RunParamsLogged', schemaVersion: 1, data: { runId: 'legacy1', params: [{ key: 'lr', value: '0.1' }] } },
      { type: 'RunMetricsLogged', schemaVersion: 1, data: { runId: 'legacy1', series: [{ key: 'acc', steps: [1, 2], values: [0.5, 0.75], timestamps: [1, 2] }] } },
      { type: 'RunFinished', schemaVersion: 1, data: { runId: 'legacy1', status: 'FINISHED', endTime: 1_600_000_000_500 } },
    ]);
    server = await server.restart();
    const expected = {
      name: 'from-2020',
      status: 'FINISHED',
      source: { gitCommit: null, entryPoint: null },
      params: [{ key: 'lr', value: '0.1' }],
      metrics: [{ key: 'acc', value: 0.75, step: 2 }],
    };
    expect((await gql(server.url, RUN, { id: 'legacy1' })).body).toEqual({ data: { run: expected } });

    const replay = await cli(['--url', server.url, '--token', server.adminToken, '--json', 'replay']);
    expect(replay.code).toBe(0);
    expect((await gql(server.url, RUN, { id: 'legacy1' })).body).toEqual({ data: { run: expected } });

    const verify = await cli(['--url', server.url, '--token', server.adminToken, '--json', 'audit', 'verify']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
  }, 120_000);
});
