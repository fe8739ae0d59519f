// The webhook dispatcher saves its checkpoint after each delivery, and only now and then while it
// skips events of no webhook kind. Across a graceful or a killed restart, nothing delivered is
// delivered again and nothing owed is lost.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

let server: ChronicleProcess;
let receiver: Server;
let receiverUrl = '';
const delivered: { id: string; type: string }[] = [];

async function ok(query: string, variables: Record<string, unknown> = {}) {
  const r = await gql(server.url, query, variables, { authorization: `Bearer ${server.adminToken}` });
  expect(r.body.errors).toBeUndefined();
  return r.body.data;
}

async function until(condition: () => boolean, what: string) {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Writes that carry no webhook event: the dispatcher skips them. */
async function unrelatedWrites(n: number) {
  for (let i = 0; i < n; i++) await ok('mutation { startRun(input: { experimentId: "0", name: "noise" }) { id } }');
}

const moveChampion = (version: number) => ok(`mutation { setModelAlias(model: "churn", alias: "champion", version: ${version}) { version } }`);

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const e = JSON.parse(body) as { id: string; type: string };
      delivered.push({ id: e.id, type: e.type });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  server = await startChronicle({ env: { CHRONICLE_LOOPBACK_ROLE: 'none' } });
  await ok('mutation { registerModel(input: { name: "churn" }) { name } }');
  for (let v = 0; v < 3; v++) {
    const runId = (await ok('mutation { startRun(input: { experimentId: "0", name: "trainer" }) { id } }')).startRun.id as string;
    const put = await fetch(`${server.url}/api/v1/runs/${runId}/artifacts/model.bin`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${server.adminToken}` },
      body: `weights ${v}`,
    });
    expect(put.status).toBe(201);
    await ok('mutation($r: ID!) { createModelVersion(input: { model: "churn", runId: $r, artifactPath: "model.bin" }) { version } }', { r: runId });
  }
  await ok('mutation($u: String!) { createWebhook(url: $u, events: [ALIAS_MOVED]) { webhook { id } } }', { u: receiverUrl });
}, 60_000);

afterAll(async () => {
  await server?.dispose();
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
});

describe('webhook deliveries across restarts', () => {
  it('delivers each event once, whether the server stopped gracefully or was killed', async () => {
    await moveChampion(1);
    await until(() => delivered.length === 1, 'the first delivery');
    await unrelatedWrites(5);

    await server.kill('SIGTERM');
    server = await server.restart();
    await unrelatedWrites(3);
    await moveChampion(2);
    await until(() => delivered.length >= 2, 'the delivery after a graceful restart');

    await unrelatedWrites(5);
    await server.kill('SIGKILL');
    server = await server.restart();
    await moveChampion(3);
    await until(() => delivered.length >= 3, 'the delivery after a kill');

    // Give a wrongly resumed dispatcher time to send anything twice.
    await new Promise((r) => setTimeout(r, 1000));
    expect(delivered.map((d) => d.type)).toEqual(['ALIAS_MOVED', 'ALIAS_MOVED', 'ALIAS_MOVED']);
    expect(new Set(delivered.map((d) => d.id)).size).toBe(3);
  }, 90_000);
});
