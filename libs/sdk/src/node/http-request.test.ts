import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHttpRequest } from './http-request.js';

// The server answers with the sha256 and size of what it received, or 204 for /empty.
let server: Server;
let base: string;
const completed: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (c: Buffer) => {
      hash.update(c);
      size += c.length;
    });
    req.on('end', () => {
      completed.push(req.url ?? '');
      if (req.url === '/empty') return res.writeHead(204).end();
      res.writeHead(201, { 'content-type': 'application/json', 'x-method': req.method, 'set-cookie': ['a=1', 'b=2'] });
      res.end(JSON.stringify({ sha256: hash.digest('hex'), size }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const bytes = Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => (i * 7) % 251));
const digest = createHash('sha256').update(bytes).digest('hex');
const chunks = (size: number) => Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));

describe('nodeHttpRequest', () => {
  it.each([
    ['a Buffer', () => bytes],
    ['a string', () => bytes.toString('latin1')],
    ['a Blob', () => new Blob([bytes])],
    ['a web stream', () => Readable.toWeb(Readable.from(chunks(65_536))) as ReadableStream<Uint8Array>],
    ['a Node stream of small chunks', () => Readable.from(chunks(1000))],
    ['an async generator', () => (async function* () { yield* chunks(2_000_000); })()],
  ])('sends every byte of %s in order', async (_kind, body) => {
    const latin1 = typeof body() === 'string';
    const res = await nodeHttpRequest(`${base}/up`, { method: 'PUT', headers: {}, body: body() });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-method')).toBe('PUT');
    const answer = (await res.json()) as { sha256: string; size: number };
    // A string goes out as UTF-8: bytes above 127 become two.
    if (!latin1) expect(answer).toEqual({ sha256: digest, size: bytes.length });
    else expect(answer.size).toBe(Buffer.byteLength(bytes.toString('latin1')));
  });

  it('answers a bodiless status with a null body and keeps repeated headers', async () => {
    const res = await nodeHttpRequest(`${base}/empty`, { method: 'POST', headers: {}, body: 'x' });
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    const up = await nodeHttpRequest(`${base}/up`, { method: 'PUT', headers: {} });
    expect(up.headers.get('set-cookie')).toBe('a=1, b=2');
    await up.body?.cancel();
  });

  it('aborts the request when the body fails midway, so the server never sees a short body as whole', async () => {
    const failing = (async function* () {
      yield bytes.subarray(0, 1_500_000);
      await new Promise((r) => setTimeout(r, 50));
      throw new Error('disk read failed');
    })();
    // Chunked (no content-length): ending the request here would hand the server a whole, short body.
    await expect(nodeHttpRequest(`${base}/cut`, { method: 'PUT', headers: {}, body: failing })).rejects.toThrow('disk read failed');
    await new Promise((r) => setTimeout(r, 200));
    expect(completed).not.toContain('/cut');
    expect(completed).toContain('/up');
  });

  it('rejects when nothing listens', async () => {
    await expect(nodeHttpRequest('http://127.0.0.1:1/x', { method: 'GET', headers: {} })).rejects.toThrow(/ECONNREFUSED/);
  });
});
