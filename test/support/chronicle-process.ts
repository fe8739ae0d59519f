import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const serverMain = join(repoRoot, 'apps/server/dist/main.js');
export const cliMain = join(repoRoot, 'apps/cli/dist/main.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface ChronicleProcess {
  url: string;
  dataDir: string;
  /** The bootstrap admin token the server wrote on first start. */
  adminToken: string;
  child: ChildProcess;
  output(): string;
  /** Sends a signal and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** Starts the server again on the same data directory and port. */
  restart(): Promise<ChronicleProcess>;
  /** Kills the server if running and removes its data directory. */
  dispose(): Promise<void>;
}

/**
 * Starts the built server (`apps/server/dist/main.js`) as a real child process on a free
 * port with its own data directory, and waits until /healthz answers.
 */
export async function startChronicle(
  opts: { dataDir?: string; port?: number; env?: Record<string, string> } = {},
): Promise<ChronicleProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'chronicle-test-'));
  const port = opts.port ?? (await freePort());
  let out = '';
  const child = spawn(process.execPath, [serverMain], {
    env: {
      ...process.env,
      CHRONICLE_DATA_DIR: dataDir,
      CHRONICLE_PORT: String(port),
      CHRONICLE_HOST: '127.0.0.1',
      CHRONICLE_LOG_LEVEL: 'warn',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become healthy in 20 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const proc: ChronicleProcess = {
    url,
    dataDir,
    adminToken: readFileSync(join(dataDir, 'admin-token'), 'utf8').trim(),
    child,
    output: () => out,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    restart: () => startChronicle({ ...opts, dataDir, port }),
    async dispose() {
      await proc.kill('SIGKILL');
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return proc;
}

/** A tiny GraphQL client for tests that want to see the raw response. */
export async function gql(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{ status: number; body: { data?: any; errors?: { message: string; extensions?: { code?: string } & Record<string, unknown> }[] } }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as any };
}
