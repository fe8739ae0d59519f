// Same-host artifact transfers against a real server and the real CLI: the server copies a file
// from a directory its operator opened, and the CLI copies a stored blob's file, checking its
// hash; everywhere else (or when refused) the bytes stream over HTTP as before.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const work = mkdtempSync(join(tmpdir(), 'chronicle-local-transfers-'));
const open = join(work, 'open');
const closed = join(work, 'closed');
let server: ChronicleProcess;
let plain: ChronicleProcess;

function cli(target: ChronicleProcess, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('CHRONICLE_')) delete env[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [cliMain, '--url', target.url, '--token', target.adminToken, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}
async function startRun(target: ChronicleProcess): Promise<string> {
  const r = await gql(target.url, 'mutation { startRun(input: { experimentId: "0", name: "local" }) { id } }', {}, { authorization: `Bearer ${target.adminToken}` });
  return r.body.data.startRun.id as string;
}
const artifactUrl = (target: ChronicleProcess, runId: string, path: string) => `${target.url}/api/v1/runs/${runId}/artifacts/${path}`;

beforeAll(async () => {
  mkdirSync(open);
  mkdirSync(closed);
  [server, plain] = await Promise.all([startChronicle({ env: { CHRONICLE_LOCAL_TRANSFER_ROOTS: open } }), startChronicle()]);
});
afterAll(async () => {
  await Promise.all([server?.dispose(), plain?.dispose()]);
  rmSync(work, { recursive: true, force: true });
});

describe('same-host artifact transfers', () => {
  it('copies a file from an open directory on upload and a stored file on download, hash-checked both ways', async () => {
    const runId = await startRun(server);
    const content = Buffer.alloc(12 * 1024 * 1024 + 3, 9);
    const file = join(open, 'weights.bin');
    writeFileSync(file, content);
    const up = await cli(server, '--json', 'artifacts', 'upload', runId, file, '--path', 'model/weights.bin');
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ path: 'model/weights.bin', sha256: sha256(content), size: content.length, created: true, mode: 'same-host' });
    // The copy is the server's own: changing the source afterwards changes nothing stored.
    writeFileSync(file, 'edited later');
    const streamed = Buffer.from(await (await fetch(artifactUrl(server, runId, 'model/weights.bin'), { headers: { authorization: `Bearer ${server.adminToken}` } })).arrayBuffer());
    expect(sha256(streamed)).toBe(sha256(content));

    const out = join(work, 'copy.bin');
    const down = await cli(server, '--json', 'artifacts', 'download', runId, 'model/weights.bin', '-o', out);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout)).toMatchObject({ sha256: sha256(content), mode: 'same-host' });
    expect(sha256(readFileSync(out))).toBe(sha256(content));

    // A stored blob that rotted is refused on the same-host path too, and nothing is written.
    const stored = join(server.dataDir, 'blobs', sha256(content).slice(0, 2), sha256(content).slice(2, 4), sha256(content));
    const fd = openSync(stored, 'r+');
    writeSync(fd, Buffer.from([1]), 0, 1, 5_000_000);
    closeSync(fd);
    const rotten = join(work, 'rotten.bin');
    const refused = await cli(server, 'artifacts', 'download', runId, 'model/weights.bin', '-o', rotten);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('nothing was written');
    expect(existsSync(rotten) || existsSync(`${rotten}.part`)).toBe(false);
  });

  it('streams instead when the file is outside the open directories, the server does not allow it, or --no-same-host is given', async () => {
    const outside = join(closed, 'outside.bin');
    writeFileSync(outside, 'streamed content');
    for (const [target, args] of [
      [server, []],
      [plain, []],
      [server, ['--no-same-host']],
    ] as const) {
      const runId = await startRun(target);
      const file = target === server && args.length ? join(open, 'flagged.bin') : outside;
      writeFileSync(file, 'streamed content');
      const up = await cli(target, '--json', 'artifacts', 'upload', runId, file, '--path', 'a.txt', ...args);
      expect(up.code, up.stderr).toBe(0);
      expect(JSON.parse(up.stdout)).toMatchObject({ sha256: sha256('streamed content'), mode: 'streamed' });
      const out = join(work, `streamed-${runId}.txt`);
      const down = await cli(target, '--json', 'artifacts', 'download', runId, 'a.txt', '-o', out, ...args);
      expect(down.code, down.stderr).toBe(0);
      expect(JSON.parse(down.stdout).mode).toBe(target === plain || args.length ? 'streamed' : 'same-host');
      expect(readFileSync(out, 'utf8')).toBe('streamed content');
    }
  });

  it('lets the server copy a big dataset file on commit, and the version checks out byte for byte', async () => {
    const tree = join(open, 'dataset');
    mkdirSync(tree);
    const big = Buffer.alloc(40 * 1024 * 1024, 5);
    writeFileSync(join(tree, 'big.bin'), big);
    writeFileSync(join(tree, 'small.txt'), 'small');
    const commit = await cli(server, '--json', 'data', 'commit', 'local-ds', tree, '-m', 'same host');
    expect(commit.code, commit.stderr).toBe(0);
    expect(JSON.parse(commit.stdout)).toMatchObject({ changed: true, files: 2, copiedByServer: 1 });
    const streamed = await cli(server, '--json', 'data', 'commit', 'local-ds-streamed', tree, '--no-same-host');
    expect(JSON.parse(streamed.stdout)).toMatchObject({ changed: true, copiedByServer: 0 });
    const out = join(work, 'checkout');
    const co = await cli(server, 'data', 'checkout', 'local-ds', out);
    expect(co.code, co.stderr).toBe(0);
    expect(sha256(readFileSync(join(out, 'big.bin')))).toBe(sha256(big));
    expect(readFileSync(join(out, 'small.txt'), 'utf8')).toBe('small');
  });

  it('answers precise errors to a direct request', async () => {
    const runId = await startRun(server);
    const auth = { authorization: `Bearer ${server.adminToken}` };
    const put = (headers: Record<string, string>, body?: string) =>
      fetch(artifactUrl(server, runId, 'x.bin'), { method: 'PUT', headers: { ...auth, ...headers }, ...(body === undefined ? {} : { body }) });
    const expectError = async (res: Response, status: number, code: string, message: RegExp) => {
      expect(res.status).toBe(status);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message).toMatch(message);
    };
    writeFileSync(join(closed, 'secret'), 'not for you');
    await expectError(await put({ 'x-chronicle-local-file': join(closed, 'secret') }), 403, 'FORBIDDEN', /outside the directories/);
    await expectError(await put({ 'x-chronicle-local-file': 'relative/path' }), 400, 'BAD_USER_INPUT', /absolute path/);
    await expectError(await put({ 'x-chronicle-local-file': join(open, 'missing') }), 400, 'BAD_USER_INPUT', /cannot find/);
    await expectError(await put({ 'x-chronicle-local-file': open }), 400, 'BAD_USER_INPUT', /not a regular file/);
    writeFileSync(join(open, 'both.bin'), 'x');
    await expectError(await put({ 'x-chronicle-local-file': join(open, 'both.bin') }, 'a body too'), 400, 'BAD_USER_INPUT', /not both/);
    // The blob routes take a named file too; an addressed PUT still refuses other content.
    const blobPut = (address: string) =>
      fetch(`${server.url}/api/v1/blobs${address}`, { method: 'PUT', headers: { ...auth, 'x-chronicle-local-file': join(open, 'both.bin') } });
    await expectError(await blobPut(`/${sha256('not x')}`), 400, 'BAD_USER_INPUT', /hashes to/);
    const addressed = await blobPut(`/${sha256('x')}`);
    expect(addressed.status).toBe(201);
    expect(await addressed.json()).toMatchObject({ sha256: sha256('x'), size: 1, created: true });
    expect(await (await blobPut('')).json()).toMatchObject({ sha256: sha256('x'), created: false });
    const off = await fetch(`${plain.url}/api/v1/runs/${await startRun(plain)}/artifacts/x.bin`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${plain.adminToken}`, 'x-chronicle-local-file': join(open, 'both.bin') },
    });
    await expectError(off, 403, 'FORBIDDEN', /CHRONICLE_LOCAL_TRANSFER_ROOTS/);
  });
});
