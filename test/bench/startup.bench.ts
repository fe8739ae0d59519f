// Server start to healthy with a ~1 GB data file. Baseline, same run: start on an empty data directory.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStream } from '@chronicle/domain';
import { createSqliteEventStore, openSqliteDatabase } from '@chronicle/event-store';
import { startChronicle } from '../support/chronicle-process.js';
import { stats, type Stats } from './support.js';

export interface StartupResult {
  fileMb: number;
  events: number;
  withData: Stats;
  empty: Stats;
}

async function startTimes(dataDir: string | undefined, times: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    const s = await startChronicle(dataDir ? { dataDir } : {});
    out.push(performance.now() - t);
    if (dataDir) await s.kill('SIGTERM');
    else await s.dispose();
  }
  return out;
}

/** Fills a data directory with metric events until the SQLite file reaches `targetMb`. */
async function seed(dataDir: string, targetMb: number): Promise<number> {
  const file = join(dataDir, 'chronicle.db');
  const db = openSqliteDatabase(file);
  const store = createSqliteEventStore({ db });
  await store.append(
    [{ stream: runStream('big'), expectedRevision: 'no_stream', events: [{ type: 'RunStarted', data: { runId: 'big', experimentId: '0', name: 'big', tags: [], parentRunId: null, source: {}, environment: {}, startTime: 0 } }] }],
    { actor: 'system:bench' },
  );
  let step = 0;
  let events = 1;
  while (statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0) < targetMb * 1024 * 1024) {
    const writes = [];
    for (let e = 0; e < 20; e++) {
      const steps = Array.from({ length: 5000 }, () => step++);
      writes.push({ type: 'RunMetricsLogged', data: { runId: 'big', series: [{ key: `k${e % 5}`, steps, values: steps.map((s) => Math.sin(s)), timestamps: steps.map((s) => 1_700_000_000_000 + s) }] } });
    }
    await store.append([{ stream: runStream('big'), expectedRevision: 'any', events: writes }], { actor: 'system:bench' });
    events += writes.length;
  }
  await store.close();
  db.close();
  return events;
}

export async function benchStartup(targetMb = 1024, times = 5): Promise<StartupResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chronicle-startup-bench-'));
  try {
    const events = await seed(dataDir, targetMb * 0.7);
    // The first start projects the whole history into read-models.db; what is timed is every
    // start after that, the normal case for a restart.
    const first = await startChronicle({ dataDir });
    await first.kill('SIGTERM');
    const fileMb = ['chronicle.db', 'read-models.db'].reduce((mb, f) => mb + statSync(join(dataDir, f)).size / 1024 / 1024, 0);
    const withData = await startTimes(dataDir, times);
    const empty = await startTimes(undefined, times);
    return { fileMb, events, withData: stats(withData), empty: stats(empty) };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
