// A projection that fails stops the read models. Writes are still durable in the log, but the
// server must say so plainly (503, SERVICE_UNAVAILABLE, /healthz failing) instead of a 500
// or a request that hangs.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

let server: ChronicleProcess;
beforeAll(async () => {
  server = await startChronicle();
});
afterAll(() => server?.dispose());

describe('when a projection fails', () => {
  it('answers writes with SERVICE_UNAVAILABLE naming the recorded position, and /healthz turns 503', async () => {
    const first = await gql(server.url, 'mutation { createExperiment(input: { name: "before" }) { id } }');
    expect(first.body.errors).toBeUndefined();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    // Break the experiments read model behind the server's back, as a bad migration or a
    // damaged file would: its next event cannot be applied.
    const db = new Database(join(server.dataDir, 'read-models.db'));
    db.exec('DROP TABLE rm_experiments');
    db.close();

    const write = await gql(server.url, 'mutation { createExperiment(input: { name: "after" }) { id } }');
    expect(write.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(write.body.errors?.[0]?.message).toMatch(/recorded at position \d+, but the read models stopped at position \d+ because a projection failed/);

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as { status: string; head: number; projected: number; error: string };
    expect(body.status).toBe('failing');
    expect(body.error).toMatch(/no such table: rm_experiments/);
    expect(body.head).toBeGreaterThan(body.projected);

    // The log still took the write: the event is there for a rebuild.
    const log = new Database(join(server.dataDir, 'chronicle.db'), { readonly: true });
    const names = log.prepare("SELECT count(*) AS n FROM events WHERE type = 'ExperimentCreated'").get() as { n: number };
    log.close();
    expect(names.n).toBeGreaterThanOrEqual(3); // Default, "before", "after"
  });
});
