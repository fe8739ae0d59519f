import { execFile } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHRONICLE_'))) as Record<string, string>;
  return new Promise((resolve) => {
    execFile(process.execPath, [cliMain, ...args], { env: { ...clean, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The fields of a CSV file (RFC 4180), enough to check that quoting round-trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else field += c;
  }
  return rows;
}

const ENTRY = 'position type actor correlationId causationId entityKind entityId summary';

describe('audit against a real server', () => {
  let server: ChronicleProcess;
  let admin: Record<string, string>;
  let runId: string;
  let adaToken: string;
  const q = (query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = admin) => gql(server.url, query, variables, headers);

  beforeAll(async () => {
    server = await startChronicle({ env: { CHRONICLE_LOOPBACK_ROLE: 'none' } });
    admin = { authorization: `Bearer ${server.adminToken}` };
    const corr = (id: string) => ({ ...admin, 'x-correlation-id': id });
    const run = await q('mutation { startRun(input: { experimentId: "0", name: "audited" }) { id } }', {}, corr('req-start'));
    runId = run.body.data.startRun.id;
    await q('mutation($r: ID!) { logParams(runId: $r, params: [{ key: "lr", value: "0.1" }]) { id } }', { r: runId }, corr('req-params'));
    await q('mutation($r: ID!) { setTags(runId: $r, tags: [{ key: "note", value: "a,\\"b\\"\\nc" }]) { id } }', { r: runId }, corr('req-tags'));
    const ingest = await fetch(`${server.url}/api/v1/runs/${runId}/metrics`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json', 'x-correlation-id': 'req-metrics' },
      body: JSON.stringify([{ key: 'loss', value: 0.5, step: 1 }, { key: 'loss', value: 0.4, step: 2 }, { key: 'acc', value: 0.9, step: 2 }]),
    });
    expect(ingest.status).toBe(200);
    await q('mutation($r: ID!) { finishRun(runId: $r) { id } }', { r: runId }, corr('req-finish'));
    await q('mutation { createUser(username: "ada", role: MEMBER) { username } }');
    adaToken = (await q('mutation { createToken(name: "t", username: "ada") { secret } }')).body.data.createToken.secret;
    const adaRun = await q('mutation { startRun(input: { experimentId: "0", name: "ada-run" }) { id } }', {}, { authorization: `Bearer ${adaToken}` });
    expect(adaRun.body.errors).toBeUndefined();
  });
  afterAll(() => server?.dispose());

  it('gives the history of a run in order, with actors and correlation ids, paged', async () => {
    const first = await q(`query($e: String!) { history(entity: $e, first: 3) { nodes { ${ENTRY} } pageInfo { endCursor hasNextPage } } }`, { e: `run:${runId}` });
    expect(first.body.errors).toBeUndefined();
    const page1 = first.body.data.history;
    expect(page1.nodes.map((n: { type: string; correlationId: string; actor: string }) => [n.type, n.correlationId, n.actor])).toEqual([
      ['RunStarted', 'req-start', 'user:admin'],
      ['RunParamsLogged', 'req-params', 'user:admin'],
      ['RunTagsSet', 'req-tags', 'user:admin'],
    ]);
    expect(page1.nodes[0]).toMatchObject({ entityKind: 'run', entityId: runId });
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const second = await q(`query($e: String!, $a: String) { history(entity: $e, first: 3, after: $a) { nodes { ${ENTRY} } pageInfo { hasNextPage } } }`, {
      e: `run-${runId}`,
      a: page1.pageInfo.endCursor,
    });
    const page2 = second.body.data.history;
    expect(page2.nodes.map((n: { type: string; correlationId: string }) => [n.type, n.correlationId])).toEqual([
      ['RunMetricsLogged', 'req-metrics'],
      ['RunFinished', 'req-finish'],
    ]);
    // Keys and point counts only: a metric batch's points stay out of the audit log.
    expect(page2.nodes[0].summary.series).toEqual(expect.arrayContaining([{ key: 'acc', points: 1 }, { key: 'loss', points: 2 }]));
    expect(page2.nodes[0].summary.series).toHaveLength(2);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    const positions = [...page1.nodes, ...page2.nodes].map((n: { position: number }) => n.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('filters the audit log by actor and type, for admins only', async () => {
    const byAda = await q(`{ auditLog(actor: "user:ada") { nodes { ${ENTRY} } } }`);
    const types = byAda.body.data.auditLog.nodes.map((n: { type: string }) => n.type);
    expect(types.length).toBeGreaterThan(0);
    expect(byAda.body.data.auditLog.nodes.every((n: { actor: string }) => n.actor === 'user:ada')).toBe(true);
    expect(types).toContain('RunStarted');
    const finished = await q(`{ auditLog(eventTypes: ["RunFinished"]) { nodes { type entityId actor } } }`);
    expect(finished.body.data.auditLog.nodes).toEqual([{ type: 'RunFinished', entityId: runId, actor: 'user:admin' }]);
    const forbidden = await q('{ auditLog { nodes { position } } }', {}, { authorization: `Bearer ${adaToken}` });
    expect(forbidden.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('exports the log as JSONL and as CSV with correct quoting', async () => {
    const jsonl = await fetch(`${server.url}/api/v1/audit/log?format=jsonl&actor=user:admin&type=RunTagsSet`, { headers: admin });
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await jsonl.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ type: 'RunTagsSet', correlationId: 'req-tags', stream: `run-${runId}` });

    const csv = await fetch(`${server.url}/api/v1/audit/log?format=csv&from=0`, { headers: admin });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parseCsv(await csv.text());
    expect(rows[0]).toEqual(['position', 'recorded_at', 'actor', 'entity_kind', 'entity_id', 'stream', 'type', 'correlation_id', 'causation_id', 'summary']);
    const tags = rows.find((r) => r[6] === 'RunTagsSet')!;
    expect(JSON.parse(tags[9]!).tags).toEqual([{ key: 'note', value: 'a,"b"\nc' }]);
    expect(rows.slice(1).every((r) => r.length === 10)).toBe(true);

    const bad = await fetch(`${server.url}/api/v1/audit/log?format=xml`, { headers: admin });
    expect(bad.status).toBe(400);
    const noToken = await fetch(`${server.url}/api/v1/audit/log`);
    expect(noToken.status).toBe(401);
  });

  it('verifies a clean server, then finds a tampered file and names the stream and revision', async () => {
    const clean = await cli(['--url', server.url, '--token', server.adminToken, 'audit', 'verify']);
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/Integrity\s+OK/);

    expect(await server.kill('SIGTERM')).toBe(0);
    const db = new Database(join(server.dataDir, 'chronicle.db'));
    // The shutdown sealed the log.
    expect((db.prepare("SELECT count(*) AS n FROM events WHERE type = 'AuditSealed'").get() as { n: number }).n).toBeGreaterThan(0);
    const changed = db.prepare("UPDATE events SET data = replace(data, '0.1', '0.2') WHERE stream = ? AND revision = 1").run(`run-${runId}`);
    expect(changed.changes).toBe(1);
    db.close();

    const broken = await cli(['audit', 'verify', '--data-dir', server.dataDir]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/Integrity\s+BROKEN/);
    expect(broken.stderr).toContain(`run-${runId} revision 1`);
  });
});
