import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

let server: ChronicleProcess;
let auth: Record<string, string>;
const q = (query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = auth) =>
  gql(server.url, query, variables, headers);
const code = (r: Awaited<ReturnType<typeof gql>>) => r.body.errors?.[0]?.extensions?.code;
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  server = await startChronicle({ env: { CHRONICLE_LOOPBACK_ROLE: 'none', CHRONICLE_MAX_BODY_MB: '1' } });
  auth = { authorization: `Bearer ${server.adminToken}` };
});
afterAll(() => server?.dispose());

async function startRun(): Promise<string> {
  const r = await q('mutation { startRun(input: { experimentId: "0", name: "trainer" }) { id } }');
  expect(r.body.errors).toBeUndefined();
  return r.body.data.startRun.id as string;
}

const artifactUrl = (runId: string, path: string) => `${server.url}/api/v1/runs/${runId}/artifacts/${path}`;

function upload(runId: string, path: string, body: RequestInit['body'], headers: Record<string, string> = {}) {
  return fetch(artifactUrl(runId, path), {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/octet-stream', ...headers },
    body,
    duplex: 'half',
  } as RequestInit);
}

/** Peak resident memory of the server process so far (Linux). */
function peakRssBytes(): number {
  const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

function generated(size: number): { stream: ReadableStream<Uint8Array>; digest: () => string } {
  const hash = createHash('sha256');
  let produced = 0;
  let digest = '';
  async function* chunks() {
    while (produced < size) {
      const chunk = Buffer.alloc(Math.min(1 << 20, size - produced), produced % 251);
      chunk.writeUInt32LE(produced >>> 0, 0);
      produced += chunk.length;
      hash.update(chunk);
      yield chunk;
    }
    digest = hash.digest('hex');
  }
  return { stream: Readable.toWeb(Readable.from(chunks())) as ReadableStream<Uint8Array>, digest: () => digest };
}

describe('run artifacts', () => {
  it('round-trips an upload with its sha256, lists it on the run, and stores equal content once', async () => {
    const runId = await startRun();
    const put = await upload(runId, 'model/weights.bin', 'tiny weights', { 'content-type': 'application/x-weights' });
    expect(put.status).toBe(201);
    const body = (await put.json()) as { sha256: string; size: number; created: boolean };
    expect(body).toMatchObject({ sha256: sha256('tiny weights'), size: 12, created: true });

    const get = await fetch(artifactUrl(runId, 'model/weights.bin'), { headers: auth });
    expect(get.status).toBe(200);
    expect(get.headers.get('etag')).toBe(`"${sha256('tiny weights')}"`);
    expect(get.headers.get('content-length')).toBe('12');
    expect(get.headers.get('content-type')).toBe('application/x-weights');
    expect(await get.text()).toBe('tiny weights');

    const again = await upload(runId, 'model/weights.bin', 'tiny weights');
    expect(again.status).toBe(200);
    const copy = await upload(runId, 'copy.bin', 'tiny weights');
    expect(((await copy.json()) as { sha256: string }).sha256).toBe(body.sha256);

    const run = await q('query($id: ID!) { run(id: $id) { artifacts { path size sha256 } } }', { id: runId });
    expect(run.body.data.run.artifacts).toEqual([
      { path: 'copy.bin', size: 12, sha256: body.sha256 },
      { path: 'model/weights.bin', size: 12, sha256: body.sha256 },
    ]);
  });

  it('refuses other content under a taken path, bad paths, unknown runs and missing artifacts', async () => {
    const runId = await startRun();
    await upload(runId, 'a.txt', 'first');
    const changed = await upload(runId, 'a.txt', 'second');
    expect(changed.status).toBe(400);
    expect(((await changed.json()) as { error: { message: string } }).error.message).toMatch(/immutable/);
    // (fetch itself resolves a literal or %2E-encoded "..", so only an encoded slash gets one to the server)
    expect((await upload(runId, 'a%2F..%2Fb', 'x')).status).toBe(400);
    expect((await upload(runId, '%2Fetc%2Fpasswd', 'x')).status).toBe(400);
    expect((await upload(runId, 'with%20space.txt', 'x')).status).toBe(201);
    expect(await (await fetch(artifactUrl(runId, 'with%20space.txt'), { headers: auth })).text()).toBe('x');
    expect((await upload('no-such-run', 'a.txt', 'x')).status).toBe(404);
    const missing = await fetch(artifactUrl(runId, 'nothing.bin'), { headers: auth });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    expect((await fetch(artifactUrl(runId, 'a.txt'))).status).toBe(401);
  });

  it('streams a 160 MB upload and download without the server holding it in memory', async () => {
    const runId = await startRun();
    const size = 160 * 1024 * 1024;
    // A first, smaller transfer pays the fixed costs (the hashing thread starts on the first
    // blob over 8 MiB); what follows must not grow with the file.
    const warmUp = generated(12 * 1024 * 1024);
    expect((await upload(runId, 'warm-up.bin', warmUp.stream)).status).toBe(201);
    await (await fetch(artifactUrl(runId, 'warm-up.bin'), { headers: auth })).arrayBuffer();
    const before = peakRssBytes();
    const content = generated(size);
    const put = await upload(runId, 'big/checkpoint.pt', content.stream);
    expect(put.status).toBe(201);
    expect(((await put.json()) as { sha256: string }).sha256).toBe(content.digest());

    const get = await fetch(artifactUrl(runId, 'big/checkpoint.pt'), { headers: auth });
    const hash = createHash('sha256');
    let received = 0;
    for await (const chunk of get.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      received += chunk.length;
    }
    expect(received).toBe(size);
    expect(hash.digest('hex')).toBe(content.digest());
    // The peak may rise a little (buffers, GC slack), but never by anything near the file's size.
    expect(peakRssBytes() - before).toBeLessThan(size / 3);
  }, 120_000);
});

async function runWithArtifact(content: string): Promise<string> {
  const runId = await startRun();
  expect((await upload(runId, 'model.pkl', content)).status).toBe(201);
  return runId;
}

const VERSION = 'model version sha256 size stage aliases runId';

describe('model registry', () => {
  it('registers a model with a card, creates versions from run artifacts, and resolves references', async () => {
    const reg = await q(`mutation { registerModel(input: { name: "churn", description: "churn model", tags: [{ key: "team", value: "growth" }],
      card: { intendedUse: "score churn", limitations: "EU only", trainingData: "crm", evaluation: "auc .91", owners: ["ana"] } }) {
      name description card { intendedUse owners } latestVersion createdBy } }`);
    expect(reg.body.data.registerModel).toEqual({
      name: 'churn', description: 'churn model', card: { intendedUse: 'score churn', owners: ['ana'] }, latestVersion: 0, createdBy: 'user:admin',
    });
    expect(code(await q('mutation { registerModel(input: { name: "churn" }) { name } }'))).toBe('CONFLICT');

    const runA = await runWithArtifact('weights A');
    const runB = await runWithArtifact('weights B');
    const create = (runId: string) =>
      q(`mutation($r: ID!) { createModelVersion(input: { model: "churn", runId: $r, artifactPath: "model.pkl", format: "pickle" }) { ${VERSION} } }`, { r: runId });
    const v1 = await create(runA);
    expect(v1.body.data.createModelVersion).toEqual({
      model: 'churn', version: 1, sha256: sha256('weights A'), size: 9, stage: 'NONE', aliases: [], runId: runA,
    });
    expect((await create(runB)).body.data.createModelVersion.version).toBe(2);
    const noArtifact = await q('mutation($r: ID!) { createModelVersion(input: { model: "churn", runId: $r, artifactPath: "nope.pkl" }) { version } }', { r: runA });
    expect(code(noArtifact)).toBe('NOT_FOUND');

    await q('mutation { setModelAlias(model: "churn", alias: "champion", version: 1, expectedCurrentVersion: 0) { version } }');
    await q('mutation { transitionStage(model: "churn", version: 2, stage: STAGING) { stage } }');
    const prod = await q('mutation { transitionStage(model: "churn", version: 1, stage: PRODUCTION) { stage } }');
    expect(prod.body.data.transitionStage.stage).toBe('PRODUCTION');

    const resolve = async (ref: string) => (await q('query($ref: String!) { resolveModel(ref: $ref) { version sha256 } }', { ref })).body;
    expect((await resolve('churn@champion')).data.resolveModel).toEqual({ version: 1, sha256: sha256('weights A') });
    expect((await resolve('churn/Staging')).data.resolveModel.version).toBe(2);
    expect((await resolve('churn/production')).data.resolveModel.version).toBe(1);
    expect((await resolve('churn/2')).data.resolveModel.version).toBe(2);
    expect((await resolve('churn@challenger')).errors![0]!.extensions!.code).toBe('NOT_FOUND');
    expect((await resolve('churn')).errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');

    // Promoting 2 to Production with archiveExisting archives 1.
    await q('mutation { transitionStage(model: "churn", version: 2, stage: PRODUCTION, archiveExisting: true) { stage } }');
    const model = await q('query { model(name: "churn") { latestVersion versions { version stage } aliases { alias version setBy } } }');
    expect(model.body.data.model).toEqual({
      latestVersion: 2,
      versions: [{ version: 2, stage: 'PRODUCTION' }, { version: 1, stage: 'ARCHIVED' }],
      aliases: [{ alias: 'champion', version: 1, setBy: 'user:admin' }],
    });
    const list = await q('query { models { name } }');
    expect(list.body.data.models.map((m: { name: string }) => m.name)).toContain('churn');
  });

  it('numbers concurrently created versions 1..N with no gaps', async () => {
    await q('mutation { registerModel(input: { name: "busy" }) { name } }');
    const runId = await runWithArtifact('busy weights');
    const n = 12;
    const results = await Promise.all(
      Array.from({ length: n }, () =>
        q('mutation($r: ID!) { createModelVersion(input: { model: "busy", runId: $r, artifactPath: "model.pkl" }) { version } }', { r: runId }),
      ),
    );
    for (const r of results) expect(r.body.errors).toBeUndefined();
    const versions = results.map((r) => r.body.data.createModelVersion.version as number).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  });

  it('lets exactly one of two concurrent compare-and-set promotions win; the other gets CONFLICT', async () => {
    await q('mutation { registerModel(input: { name: "race" }) { name } }');
    const runId = await runWithArtifact('race weights');
    for (let i = 0; i < 3; i++)
      await q('mutation($r: ID!) { createModelVersion(input: { model: "race", runId: $r, artifactPath: "model.pkl" }) { version } }', { r: runId });
    await q('mutation { setModelAlias(model: "race", alias: "champion", version: 1) { version } }');
    const promote = (version: number) =>
      q('mutation($v: Int!) { setModelAlias(model: "race", alias: "champion", version: $v, expectedCurrentVersion: 1) { version } }', { v: version });
    const [a, b] = await Promise.all([promote(2), promote(3)]);
    const codes = [a, b].map((r) => code(r) ?? 'OK').sort();
    expect(codes).toEqual(['CONFLICT', 'OK']);
    const winner = a.body.errors ? 3 : 2;
    const now = await q('query { resolveModel(ref: "race@champion") { version } }');
    expect(now.body.data.resolveModel.version).toBe(winner);
  });

  it('refuses to delete a version that holds an alias, and deletes it once the alias moved', async () => {
    await q('mutation { registerModel(input: { name: "keep" }) { name } }');
    const runId = await runWithArtifact('keep weights');
    for (let i = 0; i < 2; i++)
      await q('mutation($r: ID!) { createModelVersion(input: { model: "keep", runId: $r, artifactPath: "model.pkl" }) { version } }', { r: runId });
    await q('mutation { setModelAlias(model: "keep", alias: "champion", version: 1) { version } }');
    const refused = await q('mutation { deleteModelVersion(model: "keep", version: 1) { deleted } }');
    expect(code(refused)).toBe('FAILED_PRECONDITION');
    await q('mutation { setModelAlias(model: "keep", alias: "champion", version: 2) { version } }');
    const deleted = await q('mutation { deleteModelVersion(model: "keep", version: 1) { deleted } }');
    expect(deleted.body.data.deleteModelVersion.deleted).toBe(true);
    expect(code(await q('query { resolveModel(ref: "keep/1") { version } }'))).toBe('NOT_FOUND');
  });

  it('answers which version held an alias at any time, and who set it', async () => {
    await q('mutation { registerModel(input: { name: "timeline" }) { name } }');
    const runId = await runWithArtifact('timeline weights');
    for (let i = 0; i < 2; i++)
      await q('mutation($r: ID!) { createModelVersion(input: { model: "timeline", runId: $r, artifactPath: "model.pkl" }) { version } }', { r: runId });
    const pause = () => new Promise((r) => setTimeout(r, 30));
    const t0 = Date.now();
    await pause();
    await q('mutation { setModelAlias(model: "timeline", alias: "champion", version: 1) { version } }');
    await pause();
    const t1 = Date.now();
    await pause();
    await q('mutation { setModelAlias(model: "timeline", alias: "champion", version: 2) { version } }');
    await pause();
    const t2 = Date.now();
    await pause();
    await q('mutation { removeModelAlias(model: "timeline", alias: "champion") { name } }');
    await pause();
    const t3 = Date.now();
    const at = async (time: number) =>
      (await q('query($at: Float) { aliasHistory(model: "timeline", alias: "champion", at: $at) { version setBy toTime } }', { at: time })).body.data
        .aliasHistory as { version: number; setBy: string }[];
    expect(await at(t0)).toEqual([]);
    expect((await at(t1)).map((p) => [p.version, p.setBy])).toEqual([[1, 'user:admin']]);
    expect((await at(t2)).map((p) => p.version)).toEqual([2]);
    expect(await at(t3)).toEqual([]);
    const all = await q('query { aliasHistory(model: "timeline", alias: "champion") { version fromTime toTime } }');
    expect(all.body.data.aliasHistory.map((p: { version: number }) => p.version)).toEqual([1, 2]);
    expect(all.body.data.aliasHistory.every((p: { toTime: number | null }) => p.toTime !== null)).toBe(true);
  });

  it('lets a member register models and versions but not move aliases (FORBIDDEN)', async () => {
    await q('mutation { createUser(username: "mia", role: MEMBER) { username } }');
    const t = await q('mutation { createToken(name: "mia", username: "mia") { secret } }');
    const asMia = { authorization: `Bearer ${t.body.data.createToken.secret}` };
    const reg = await q('mutation { registerModel(input: { name: "mias-model" }) { createdBy } }', {}, asMia);
    expect(reg.body.data.registerModel.createdBy).toBe('user:mia');
    const runId = await runWithArtifact('mia weights');
    const v = await q('mutation($r: ID!) { createModelVersion(input: { model: "mias-model", runId: $r, artifactPath: "model.pkl" }) { version } }', { r: runId }, asMia);
    expect(v.body.data.createModelVersion.version).toBe(1);
    const alias = await q('mutation { setModelAlias(model: "mias-model", alias: "champion", version: 1) { version } }', {}, asMia);
    expect(code(alias)).toBe('FORBIDDEN');
    const stage = await q('mutation { transitionStage(model: "mias-model", version: 1, stage: PRODUCTION) { stage } }', {}, asMia);
    expect(code(stage)).toBe('FORBIDDEN');
  });
});

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHRONICLE_'))) as Record<string, string>;
  return new Promise((resolve) => {
    execFile(process.execPath, [cliMain, '--url', server.url, '--token', server.adminToken, ...args], { env: clean, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('CLI for artifacts and models', () => {
  it('uploads and downloads a file, checking its hash, and drives the registry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chronicle-registry-cli-'));
    try {
      const runId = await startRun();
      const file = join(dir, 'weights.bin');
      const content = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
      writeFileSync(file, content);
      const up = await cli('--json', 'artifacts', 'upload', runId, file, '--path', 'model/weights.bin');
      expect(up.code, up.stderr).toBe(0);
      expect(JSON.parse(up.stdout)).toMatchObject({ path: 'model/weights.bin', sha256: sha256(content), created: true });
      const out = join(dir, 'copy.bin');
      const down = await cli('artifacts', 'download', runId, 'model/weights.bin', '-o', out);
      expect(down.code, down.stderr).toBe(0);
      expect(sha256(readFileSync(out))).toBe(sha256(content));

      // The CLI hashes what it writes (the server then skips its own check): a blob that rotted
      // on disk is refused by the CLI and by the server-verified plain GET alike.
      const stored = join(server.dataDir, 'blobs', sha256(content).slice(0, 2), sha256(content).slice(2, 4), sha256(content));
      const fd = openSync(stored, 'r+');
      writeSync(fd, Buffer.from([8]), 0, 1, 2 * 1024 * 1024);
      closeSync(fd);
      const rotten = join(dir, 'rotten.bin');
      const refused = await cli('artifacts', 'download', runId, 'model/weights.bin', '-o', rotten);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(`not ${sha256(content)}; nothing was written`);
      expect(existsSync(rotten) || existsSync(`${rotten}.part`)).toBe(false);
      const plain = await fetch(artifactUrl(runId, 'model/weights.bin'), { headers: auth });
      await expect(plain.arrayBuffer()).rejects.toThrow();
      writeFileSync(stored, content);

      expect((await cli('models', 'register', 'cli-model', '--description', 'from the CLI', '--owner', 'ana')).code).toBe(0);
      const v = await cli('models', 'create-version', 'cli-model', '--run', runId, '--artifact', 'model/weights.bin');
      expect(v.stdout.trim()).toBe('1');
      expect((await cli('models', 'set-alias', 'cli-model', 'champion', '1', '--expect', '0')).code).toBe(0);
      const stale = await cli('models', 'set-alias', 'cli-model', 'champion', '1', '--expect', '0');
      expect(stale.code).toBe(1);
      expect(stale.stderr).toContain('(CONFLICT)');
      expect((await cli('models', 'transition', 'cli-model', '1', 'production')).code).toBe(0);
      const resolved = await cli('--json', 'models', 'resolve', 'cli-model@champion');
      expect(JSON.parse(resolved.stdout)).toMatchObject({ version: 1, stage: 'PRODUCTION', sha256: sha256(content) });
      const list = await cli('models', 'list');
      expect(list.stdout).toMatch(/cli-model\s+1\s+champion=1/);
      const show = await cli('models', 'show', 'cli-model');
      expect(show.stdout).toContain('Owners      ana');
      const history = await cli('--json', 'models', 'alias-history', 'cli-model', 'champion');
      expect(JSON.parse(history.stdout)).toMatchObject([{ version: 1, setBy: 'user:admin', toTime: null }]);
      expect((await cli('models', 'remove-alias', 'cli-model', 'champion')).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
