import type { ReplayProgress, ReplayResult } from '@chronicle/server';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { CliError, type GlobalOptions } from '../context.js';
import { formatDuration, toJson, type Io } from '../output.js';

interface ReplayJob {
  id: string;
  state: 'running' | 'done' | 'failed';
  progress: ReplayProgress | null;
  result: ReplayResult | null;
  error: string | null;
}

const POLL_MS = 250;

/** events/s and ETA on stderr, only when it is a terminal. */
function progressView(io: Io) {
  const bar = io.interactive
    ? new SingleBar({
        format: 'replaying |{bar}| {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_text} | {phase}',
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
      })
    : null;
  let started = false;
  return {
    update(p: ReplayProgress) {
      if (!bar) return;
      const payload = {
        rate: Math.round(p.eventsPerSecond).toLocaleString('en-US'),
        eta_text: p.etaSeconds === null ? '…' : formatDuration(p.etaSeconds * 1000),
        phase: p.phase.replace('_', ' '),
      };
      if (!started) bar.start(Math.max(p.head, 1), p.position, payload);
      started = true;
      bar.setTotal(Math.max(p.head, p.position, 1));
      bar.update(p.position, payload);
    },
    stop: () => bar?.stop(),
  };
}

function render(r: ReplayResult): string {
  return (
    `Rebuilt ${r.tables} tables (${r.rows.toLocaleString('en-US')} rows) from ${r.events.toLocaleString('en-US')} events ` +
    `in ${formatDuration(r.ms)} (${Math.round(r.eventsPerSecond).toLocaleString('en-US')} events/s); swapped in at position ${r.position}\n`
  );
}

async function call(g: GlobalOptions, method: 'GET' | 'POST'): Promise<ReplayJob> {
  let res: Response;
  try {
    res = await fetch(new URL('/api/v1/admin/replay', g.url), { method, headers: g.token ? { authorization: `Bearer ${g.token}` } : {} });
  } catch (e) {
    throw new CliError(`cannot reach the server at ${g.url}: ${e instanceof Error ? e.message : String(e)}`, 'UNAVAILABLE');
  }
  const body = (await res.json().catch(() => null)) as { job?: ReplayJob; error?: { code: string; message: string } } | null;
  if (!res.ok || !body?.job) throw new CliError(body?.error?.message ?? `the server answered HTTP ${res.status}`, body?.error?.code ?? 'INTERNAL_SERVER_ERROR');
  return body.job;
}

async function replayThroughServer(g: GlobalOptions, io: Io): Promise<ReplayResult> {
  const view = progressView(io);
  try {
    for (let job = await call(g, 'POST'); ; job = await call(g, 'GET')) {
      if (job.progress) view.update(job.progress);
      if (job.state === 'done' && job.result) return job.result;
      if (job.state === 'failed') throw new CliError(`replay failed: ${job.error ?? 'unknown error'}; the read models are unchanged`, 'INTERNAL_SERVER_ERROR');
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    view.stop();
  }
}

async function replayOffline(dataDir: string, io: Io): Promise<ReplayResult> {
  const { replayDataDir } = await import('@chronicle/server');
  const view = progressView(io);
  try {
    return await replayDataDir(dataDir, (p) => view.update(p));
  } finally {
    view.stop();
  }
}

export function registerReplay(program: Command, io: Io): void {
  program
    .command('replay')
    .description('rebuild every read model from the event log into a fresh file, then swap it in atomically (admins only)')
    .option('--data-dir <dir>', "rebuild this data directory's read models directly, without a server (stop the server first)")
    .addHelpText(
      'after',
      `
The server keeps answering queries from the old read models until the new ones have caught up
with every event, including those written during the rebuild; then it switches in one step.

Examples:
  $ chronicle replay                           # through the running server
  $ chronicle replay --json                    # the summary as JSON
  $ chronicle replay --data-dir ./.chronicle   # offline; the server must be stopped`,
    )
    .action(async (opts: { dataDir?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const result = opts.dataDir ? await replayOffline(opts.dataDir, io) : await replayThroughServer(g, io);
      io.out(g.json ? `${toJson(result)}\n` : render(result));
    });
}
