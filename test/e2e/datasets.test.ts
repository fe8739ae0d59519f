import { createHash } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

let server: ChronicleProcess;
let auth: Record<string, string>;
let work: string;
const q = (query: string, variables: Record<string, unknown> = {}) => gql(server.url, query, variables, auth);
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  server = await startChronicle({ env: { CHRONICLE_LOOPBACK_ROLE: 'none' } });
  auth = { authorization: `Bearer ${server.adminToken}` };
  work = mkdtempSync(join(tmpdir(), 'chronicle-data-'));
});
afterAll(async () => {
  await server?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliMain, '--url', server.url, '--token', server.adminToken, ...args],
      { env: { ...process.env, CHRONICLE_CACHE_DIR: join(work, 'cache') }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
const json = async (args: string[]) => {
  const r = await cli(['--json', ...args]);
  expect(r.stderr).not.toMatch(/error:/);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, any>;
};

function tree(root: string, files: Record<string, string>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const blobPath = (h: string) => join(server.dataDir, 'blobs', h.slice(0, 2), h.slice(2, 4), h);
const packsDir = () => join(server.dataDir, 'blobs', 'packs');
/** Every pack index entry: small batched blobs live in packs (see docs/architecture.md, Blobs). */
function packEntries(): { sha256: string; pack: string; offset: number; size: number }[] {
  if (!existsSync(packsDir())) return [];
  return readdirSync(packsDir())
    .filter((n) => n.endsWith('.idx'))
    .flatMap((n) => {
      const index = readFileSync(join(packsDir(), n));
      return Array.from({ length: index.length / 48 }, (_, i) => ({
        sha256: index.toString('hex', i * 48, i * 48 + 32),
        pack: join(packsDir(), n.replace(/\.idx$/, '.pack')),
        offset: Number(index.readBigUInt64BE(i * 48 + 32)),
        size: Number(index.readBigUInt64BE(i * 48 + 40)),
      }));
    });
}
/** The stored bytes of a blob, loose or packed; null when the server has not stored it. */
function storedBytes(h: string): Buffer | null {
  if (existsSync(blobPath(h))) return readFileSync(blobPath(h));
  const e = packEntries().find((x) => x.sha256 === h);
  return e ? readFileSync(e.pack).subarray(e.offset, e.offset + e.size) : null;
}
/** Overwrites a stored blob's first byte, as a failing disk would. */
function corruptBlob(h: string): void {
  if (existsSync(blobPath(h))) return writeFileSync(blobPath(h), 'rotten on disk!!');
  const e = packEntries().find((x) => x.sha256 === h);
  if (!e) throw new Error(`blob ${h} is not stored`);
  const fd = openSync(e.pack, 'r+');
  writeSync(fd, Buffer.from('X'), 0, 1, e.offset);
  closeSync(fd);
}
const countBlobs = () =>
  readdirSync(join(server.dataDir, 'blobs'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile() && /^[0-9a-f]{64}$/.test(d.name)).length +
  new Set(packEntries().map((e) => e.sha256)).size;

describe('data commit, log, checkout', () => {
  it('versions a tree with spaces, unicode, empty files and symlinks as documented, and stores content once', async () => {
    const src = tree(join(work, 'src'), {
      'a b/naïve café.txt': 'bonjour',
      'empty.bin': '',
      'dup1.txt': 'same bytes',
      'nested/dup2.txt': 'same bytes',
    });
    mkdirSync(join(src, 'empty dir'));
    symlinkSync(join(src, 'dup1.txt'), join(src, 'link-to-file'));
    symlinkSync(join(src, 'nested'), join(src, 'link-to-dir'));
    const c = await json(['data', 'commit', 'photos', src, '-m', 'first', '--tag', 'gold']);
    expect(c).toMatchObject({ versionId: 'photos@1', changed: true, files: 5 });
    expect(c['skipped']).toEqual([{ path: 'link-to-dir', reason: 'symlink to a directory' }]);
    // 'bonjour', '', 'same bytes' (three paths share it) and the manifest
    expect(c['uploadedFiles']).toBe(3);
    const v = await q('{ datasetVersion(dataset: "photos", version: "gold") { version fileCount totalBytes tags author parentVersion } }');
    expect(v.body.data.datasetVersion).toEqual({ version: 1, fileCount: 5, totalBytes: 7 + 10 * 3, tags: ['gold'], author: 'user:admin', parentVersion: null });

    const again = await json(['data', 'commit', 'photos', src]);
    expect(again).toMatchObject({ changed: false, version: 1, hashedFiles: 0 });
    const blobsBefore = countBlobs();
    const other = await json(['data', 'commit', 'photos-copy', src]);
    expect(other).toMatchObject({ versionId: 'photos-copy@1', uploadedFiles: 0 });
    expect(countBlobs()).toBe(blobsBefore);

    const out = join(work, 'out');
    const co = await json(['data', 'checkout', 'photos:gold', out]);
    expect(co).toMatchObject({ files: 5, fetched: 5 });
    expect(readFileSync(join(out, 'a b/naïve café.txt'), 'utf8')).toBe('bonjour');
    expect(readFileSync(join(out, 'link-to-file'), 'utf8')).toBe('same bytes');
    expect(readFileSync(join(out, 'empty.bin')).length).toBe(0);
    expect(existsSync(join(out, 'empty dir'))).toBe(false);

    writeFileSync(join(out, 'dup1.txt'), 'edited locally');
    writeFileSync(join(out, 'stray.txt'), 'not in the version');
    const re = await json(['data', 'checkout', 'photos@1', out]);
    expect(re).toMatchObject({ fetched: 1, kept: 4, removed: ['stray.txt'] });
    expect(readFileSync(join(out, 'dup1.txt'), 'utf8')).toBe('same bytes');

    const log = await json(['data', 'log', 'photos']);
    expect(log.map((x: { version: number }) => x.version)).toEqual([1]);
  });

  it('reports a corrupt blob on checkout instead of using it', async () => {
    const src = tree(join(work, 'corrupt-src'), { 'good.txt': 'fine', 'bad.txt': 'will rot on disk' });
    await json(['data', 'commit', 'rotting', src]);
    corruptBlob(sha256('will rot on disk'));
    const dest = join(work, 'corrupt-out');
    const r = await cli(['data', 'checkout', 'rotting', dest]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.txt.*corrupt/);
    expect(existsSync(join(dest, 'bad.txt'))).toBe(false);
  });

  it('diffs two versions with a CSV row and column summary', async () => {
    const src = tree(join(work, 'csv'), { 'table.csv': 'id,name\n1,a\n2,b\n', 'gone.txt': 'x', 'keep.txt': 'k' });
    await json(['data', 'commit', 'tables', src]);
    rmSync(join(src, 'gone.txt'));
    tree(src, { 'table.csv': 'id,name,score\n1,a,3\n2,b,4\n3,c,5\n', 'new.txt': 'hello' });
    const c2 = await json(['data', 'commit', 'tables', src, '-m', 'more rows']);
    expect(c2).toMatchObject({ version: 2 });
    const d = await json(['data', 'diff', 'tables', '1', '2']);
    expect(d['added'].map((a: { path: string }) => a.path)).toEqual(['new.txt']);
    expect(d['removed'].map((a: { path: string }) => a.path)).toEqual(['gone.txt']);
    expect(d['modified'].map((a: { path: string }) => a.path)).toEqual(['table.csv']);
    expect(d['unchangedCount']).toBe(1);
    expect(d['bytesChanged']).toBe(Buffer.byteLength('hello') + Buffer.byteLength('id,name,score\n1,a,3\n2,b,4\n3,c,5\n'));
    expect(d['csv']).toEqual([{ path: 'table.csv', rowsBefore: 2, rowsAfter: 3, columnsAdded: ['score'], columnsRemoved: [] }]);
  });
});

describe('concurrency and interruption', () => {
  async function uploadManifest(lines: { path: string; content: string }[]): Promise<string> {
    for (const l of lines) {
      const res = await fetch(`${server.url}/api/v1/blobs/${sha256(l.content)}`, { method: 'PUT', headers: auth, body: l.content });
      expect(res.status).toBeLessThan(300);
    }
    const manifest = [...lines]
      .sort((a, b) => (a.path < b.path ? -1 : 1))
      .map((l) => `${JSON.stringify({ path: l.path, sha256: sha256(l.content), size: Buffer.byteLength(l.content) })}\n`)
      .join('');
    const h = sha256(manifest);
    expect((await fetch(`${server.url}/api/v1/blobs/${h}`, { method: 'PUT', headers: auth, body: manifest })).status).toBeLessThan(300);
    return h;
  }
  const commit = (dataset: string, parent: number | null, manifest: string) =>
    q('mutation($d: String!, $p: Int, $m: String!) { commitDatasetVersion(dataset: $d, parentVersion: $p, manifestSha256: $m) { changed version { version parentVersion } } }', {
      d: dataset,
      p: parent,
      m: manifest,
    });

  it('gives concurrent commits on the same parent a linear history: one wins, the other gets CONFLICT', async () => {
    await q('mutation { createDataset(name: "race") { name } }');
    const [m1, m2] = [await uploadManifest([{ path: 'a', content: 'one' }]), await uploadManifest([{ path: 'a', content: 'two' }])];
    const results = await Promise.all([commit('race', null, m1), commit('race', null, m2)]);
    const codes = results.map((r) => r.body.errors?.[0]?.extensions?.code ?? 'OK').sort();
    expect(codes).toEqual(['CONFLICT', 'OK']);
    const versions = await q('{ dataset(name: "race") { versions { version parentVersion } } }');
    expect(versions.body.data.dataset.versions).toEqual([{ version: 1, parentVersion: null }]);
  });

  it('refuses a manifest whose files were never uploaded, and a blob that does not match its address', async () => {
    await q('mutation { createDataset(name: "strict") { name } }');
    const manifest = `${JSON.stringify({ path: 'x', sha256: sha256('never uploaded'), size: 14 })}\n`;
    await fetch(`${server.url}/api/v1/blobs/${sha256(manifest)}`, { method: 'PUT', headers: auth, body: manifest });
    const r = await commit('strict', null, sha256(manifest));
    expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const bad = await fetch(`${server.url}/api/v1/blobs/${sha256('a')}`, { method: 'PUT', headers: auth, body: 'b' });
    expect(bad.status).toBe(400);
    const missing = await fetch(`${server.url}/api/v1/blobs/missing`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ sha256: [sha256('one'), sha256('never uploaded')] }),
    });
    expect(await missing.json()).toEqual({ missing: [sha256('never uploaded')] });
  });

  it('stores many blobs in one batch request, each verified; refuses a wrong hash (400), an oversize batch (413) and a torn frame', async () => {
    const frame = (items: { sha256: string; bytes: Buffer }[]) =>
      Buffer.concat(
        items.flatMap((it) => {
          const size = Buffer.alloc(8);
          size.writeBigUInt64BE(BigInt(it.bytes.length));
          return [Buffer.from(it.sha256, 'hex'), size, it.bytes];
        }),
      );
    const post = (body: Buffer, headers: Record<string, string> = {}) =>
      fetch(`${server.url}/api/v1/blobs/batch`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream', ...headers }, body });
    const a = Buffer.from('batch item a');
    const b = Buffer.from('');
    const ok = await post(frame([{ sha256: sha256(a), bytes: a }, { sha256: sha256(b), bytes: b }, { sha256: sha256(a), bytes: a }]));
    expect(ok.status).toBe(200);
    const stored = (await ok.json()) as { blobs: { sha256: string; size: number; created: boolean }[] };
    expect(stored.blobs.map((x) => [x.sha256, x.size])).toEqual([[sha256(a), a.length], [sha256(b), 0], [sha256(a), a.length]]);
    // Items are stored concurrently: the same content twice is created by exactly one of them.
    expect([stored.blobs[0]!.created, stored.blobs[2]!.created].filter(Boolean)).toHaveLength(1);
    expect(storedBytes(sha256(a))?.toString()).toBe('batch item a');
    const again = (await (await post(frame([{ sha256: sha256(a), bytes: a }]))).json()) as { blobs: { created: boolean }[] };
    expect(again.blobs[0]!.created).toBe(false);
    const d = Buffer.from('batch item d');
    const minimal = await post(frame([{ sha256: sha256(a), bytes: a }, { sha256: sha256(d), bytes: d }]), { prefer: 'return=minimal' });
    expect(minimal.status).toBe(200);
    expect(await minimal.json()).toEqual({ stored: 2, created: 1 });

    const c = Buffer.from('batch item c');
    const wrong = await post(frame([{ sha256: sha256(c), bytes: c }, { sha256: sha256('something else'), bytes: Buffer.from('not it') }]));
    expect(wrong.status).toBe(400);
    const err = (await wrong.json()) as { error: { code: string; message: string; item: number; expected: string; actual: string } };
    expect(err.error).toMatchObject({ code: 'BAD_USER_INPUT', item: 1, expected: sha256('something else'), actual: sha256('not it') });
    expect(err.error.message).toMatch(/batch item 1 hashes to/);
    expect(storedBytes(sha256('not it'))).toBeNull();

    const torn = await post(frame([{ sha256: sha256(c), bytes: c }]).subarray(0, 45));
    expect(torn.status).toBe(400);
    expect(((await torn.json()) as { error: { message: string } }).error.message).toMatch(/ends inside item 0/);

    const huge = Buffer.alloc(40);
    huge.writeBigUInt64BE(1n << 40n, 32);
    const declared = await post(huge);
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    const oversize = await post(Buffer.alloc(64 * 1024 * 1024 + 1));
    expect(oversize.status).toBe(413);
    expect(((await oversize.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });

    const unaddressed = await fetch(`${server.url}/api/v1/blobs`, { method: 'PUT', headers: auth, body: 'no hash given' });
    expect(unaddressed.status).toBeLessThan(300);
    expect(await unaddressed.json()).toMatchObject({ sha256: sha256('no hash given'), size: 13 });
  });

  it('commits a large file uploaded while it is hashed, and checks it out byte for byte', async () => {
    const src = join(work, 'large');
    mkdirSync(src);
    const content = Buffer.alloc(33 * 1024 * 1024);
    for (let i = 0; i < content.length; i += 4096) content.writeUInt32LE(i, i);
    writeFileSync(join(src, 'weights.bin'), content);
    const first = await json(['data', 'commit', 'large', src]);
    expect(first).toMatchObject({ versionId: 'large@1', uploadedFiles: 1, uploadedBytes: content.length });
    expect(storedBytes(sha256(content))?.equals(content)).toBe(true);
    const again = await json(['data', 'commit', 'large', src]);
    expect(again).toMatchObject({ changed: false, uploadedFiles: 0 });
    const out = join(work, 'large-out');
    await json(['data', 'checkout', 'large@1', out]);
    expect(sha256(readFileSync(join(out, 'weights.bin')))).toBe(sha256(content));
  });

  it('a CLI commit killed midway leaves no version; a retry completes it', async () => {
    const src = join(work, 'many');
    const files: Record<string, string> = {};
    // Enough files for many upload batches (2,000 files each), so the kill lands between them.
    for (let i = 0; i < 20_000; i++) files[`d${i % 20}/f${i}.txt`] = `file ${i} ${'x'.repeat(i % 500)}`;
    tree(src, files);
    const blobsBefore = countBlobs();
    const child = spawn(process.execPath, [cliMain, '--url', server.url, '--token', server.adminToken, 'data', 'commit', 'killed', src], {
      env: { ...process.env, CHRONICLE_CACHE_DIR: join(work, 'cache-kill') },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.once('exit', r));
    while (countBlobs() < blobsBefore + 50 && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await exited;
    expect(countBlobs()).toBeLessThan(blobsBefore + 20_000);
    const none = await q('{ dataset(name: "killed") { latestVersion } }');
    expect(none.body.data.dataset.latestVersion).toBe(0);
    const retry = await json(['data', 'commit', 'killed', src]);
    expect(retry).toMatchObject({ versionId: 'killed@1', changed: true, files: 20_000 });
    expect(retry['uploadedFiles']).toBeLessThan(20_000);
  });
});

describe('lineage and impact', () => {
  it('walks back from a model version to runs, code, params and every dataset version with its parents; and forward from data', async () => {
    const commitTree = async (dataset: string, files: Record<string, string>) => json(['data', 'commit', dataset, tree(mkdtempSync(join(work, 'l-')), files)]);
    await commitTree('raw', { 'r.txt': 'raw v1' });
    await commitTree('raw', { 'r.txt': 'raw v2' });
    await commitTree('labels', { 'l.txt': 'labels' });
    await commitTree('features', { 'f.txt': 'features' });
    const start = async (name: string) =>
      (await q(`mutation { startRun(input: { experimentId: "0", name: "${name}", source: { gitCommit: "abc123" } }) { id } }`)).body.data.startRun.id as string;
    const prep = await start('prep');
    const train = await start('train');
    await q(`mutation { logParams(runId: "${train}", params: [{ key: "lr", value: "0.1" }]) { id } }`);
    const inputs = await q(
      'mutation($r: String!) { declareRunInputs(runId: $r, inputs: [{ dataset: "raw", version: "2", role: "train" }, { dataset: "labels", version: "1", role: "test" }]) { versionId role } }',
      { r: prep },
    );
    expect(inputs.body.data.declareRunInputs).toEqual([
      { versionId: 'raw@2', role: 'train' },
      { versionId: 'labels@1', role: 'test' },
    ]);
    await q('mutation($r: String!) { declareRunOutputs(runId: $r, outputs: [{ dataset: "features", version: "1" }]) { versionId } }', { r: prep });
    await q('mutation($r: String!) { declareRunInputs(runId: $r, inputs: [{ dataset: "features", version: "1", role: "train" }]) { versionId } }', { r: train });
    const put = await fetch(`${server.url}/api/v1/runs/${train}/artifacts/model.bin`, { method: 'PUT', headers: auth, body: 'weights' });
    expect(put.status).toBe(201);
    await q('mutation { registerModel(input: { name: "churn" }) { name } }');
    const mv = await q(`mutation { createModelVersion(input: { model: "churn", runId: "${train}", artifactPath: "model.bin" }) { version } }`);
    expect(mv.body.errors).toBeUndefined();

    const back = await q(`{ lineage(node: "model_version:churn/1") {
      nodes { node depth run { id source { gitCommit } params { key value } } datasetVersion { versionId } }
      edges { from to relation role } } }`);
    expect(back.body.errors).toBeUndefined();
    const nodes = back.body.data.lineage.nodes as { node: string; run: { source: { gitCommit: string }; params: { key: string }[] } | null }[];
    expect(nodes.map((n) => n.node).sort()).toEqual(
      ['model_version:churn/1', `run:${train}`, 'dataset_version:features@1', `run:${prep}`, 'dataset_version:raw@2', 'dataset_version:labels@1', 'dataset_version:raw@1'].sort(),
    );
    const trainNode = nodes.find((n) => n.node === `run:${train}`)!;
    expect(trainNode.run!.source.gitCommit).toBe('abc123');
    expect(trainNode.run!.params).toEqual([{ key: 'lr', value: '0.1' }]);
    expect(back.body.data.lineage.edges).toContainEqual({ from: 'dataset_version:labels@1', to: `run:${prep}`, relation: 'input', role: 'test' });
    expect(back.body.data.lineage.edges).toContainEqual({ from: 'dataset_version:raw@1', to: 'dataset_version:raw@2', relation: 'parent', role: '' });

    const fwd = await q('{ impact(datasetVersion: "raw@2") { nodes { node depth } } }');
    expect(fwd.body.data.impact.nodes).toEqual([
      { node: 'dataset_version:raw@2', depth: 0 },
      { node: `run:${prep}`, depth: 1 },
      { node: 'dataset_version:features@1', depth: 2 },
      { node: `run:${train}`, depth: 3 },
      { node: 'model_version:churn/1', depth: 4 },
    ]);
    const fromParent = await q('{ impact(datasetVersion: "raw@1") { nodes { node } } }');
    expect(fromParent.body.data.impact.nodes.map((n: { node: string }) => n.node)).toContain('model_version:churn/1');
    const labelsImpact = await q('{ impact(datasetVersion: "labels:nope") { nodes { node } } }');
    expect(labelsImpact.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const dep = await cli(['data', 'deprecate', 'raw@2', '--reason', 'sensor drift']);
    expect(dep.code).toBe(0);
    const refused = await q('mutation($r: String!) { declareRunInputs(runId: $r, inputs: [{ dataset: "raw", version: "2", role: "train" }]) { versionId } }', { r: train });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FAILED_PRECONDITION');
    const runInputs = await q(`{ run(id: "${train}") { inputs { versionId role } } }`);
    expect(runInputs.body.data.run.inputs).toEqual([{ versionId: 'features@1', role: 'train' }]);
  });
});
