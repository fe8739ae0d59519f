import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Principal } from '@chronicle/domain';
import { createSqliteEventStore, openSqliteDatabase } from '@chronicle/event-store';
import { allProjections, ProjectionRunner, READ_MODELS_FILE, replayReadModels } from '@chronicle/projections';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, openPlatform, type Platform } from './platform.js';
import { replayDataDir } from './replay-offline.js';

const ctx = { principal: { username: 'tester', role: 'admin', via: { kind: 'system' } } satisfies Principal };
const logger = pino({ level: 'silent' });

let dataDir: string;
let platform: Platform | null = null;
afterEach(async () => {
  await platform?.close();
  platform = null;
  rmSync(dataDir, { recursive: true, force: true });
});

/** A data directory as written before read-models.db: projections wrote into chronicle.db itself. */
async function oldLayoutDataDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-platform-'));
  const old = createSqliteEventStore({ path: join(dir, DATABASE_FILE) });
  await old.append([{ stream: 'experiment-7', expectedRevision: 'no_stream', events: [{ type: 'ExperimentCreated', data: { experimentId: '7', name: 'churn', description: '', tags: [], createdAt: 1 } }] }], { actor: 'user:ada' });
  await new ProjectionRunner({ store: old, db: old.db, projections: allProjections }).catchUp();
  await old.close();
  return dir;
}

async function openFreshPlatform(): Promise<Platform> {
  dataDir = mkdtempSync(join(tmpdir(), 'chronicle-platform-'));
  return openPlatform({ dataDir, logger });
}

/** A replay as the server's admin endpoint runs it: the live runner paused for the swap. */
async function replayWhileServing(p: Platform): Promise<void> {
  await replayReadModels({
    store: p.store,
    replaceFile: (rebuilt) => p.replaceReadModels(rebuilt),
    liveRunner: p.runner,
    projections: allProjections,
    shadowPath: join(dataDir, 'replay.db'),
  });
}

describe('the platform’s read-model file', () => {
  it('is rebuilt from the log for a data directory whose read models still live in the log’s file', async () => {
    dataDir = await oldLayoutDataDir();
    expect(existsSync(join(dataDir, READ_MODELS_FILE))).toBe(false);

    platform = await openPlatform({ dataDir, logger });
    expect(platform.read.experiments.get('7')?.name).toBe('churn');
    expect(platform.db.prepare("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'rm\\_%' ESCAPE '\\'").pluck().get()).toBe(0);
    expect(existsSync(join(dataDir, READ_MODELS_FILE))).toBe(true);
  });

  it('is rebuilt by an offline replay of such a data directory too, which the server then serves', async () => {
    dataDir = await oldLayoutDataDir();
    const result = await replayDataDir(dataDir);
    expect(result.events).toBe(1);
    const log = openSqliteDatabase(join(dataDir, DATABASE_FILE));
    expect(log.prepare("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'rm\\_%' ESCAPE '\\'").pluck().get()).toBe(0);
    log.close();
    expect(existsSync(join(dataDir, READ_MODELS_FILE))).toBe(true);
    platform = await openPlatform({ dataDir, logger });
    expect(platform.read.experiments.get('7')?.name).toBe('churn');
  });

  it('keeps serving from the old file when a replacement cannot be put in place', async () => {
    platform = await openFreshPlatform();
    const { experimentId } = await platform.commands.experiments.create(ctx, { name: 'before' });
    const resume = await platform.runner.pause();
    expect(() => platform!.replaceReadModels(join(dataDir, 'no-such-replay.db'))).toThrow(/ENOENT/);
    resume();
    expect(platform.read.experiments.get(experimentId)?.name).toBe('before');
    // The runner projects into the reopened file: a write after the failure shows up.
    const after = await platform.commands.experiments.create(ctx, { name: 'after' });
    expect(platform.read.experiments.get(after.experimentId)?.name).toBe('after');
    // Time travel reads the reopened file too: the past before the second write lacks it.
    const past = await platform.timeTravel.at({ position: after.position - 1 });
    expect(past.experiments.get(experimentId)?.name).toBe('before');
    expect(past.experiments.get(after.experimentId)).toBeNull();
  });

  it('answers a past read taken before a replay’s swap from the swapped-in file', async () => {
    platform = await openFreshPlatform();
    const first = await platform.commands.experiments.create(ctx, { name: 'first' });
    await platform.commands.experiments.create(ctx, { name: 'second' });
    const past = await platform.timeTravel.at({ position: first.position });
    expect(past.experiments.list().map((e) => e.name)).toContain('first');
    await replayWhileServing(platform);
    // The connection `past` was taken on is closed now; it still answers, as of the same position.
    const names = past.experiments.list().map((e) => e.name);
    expect(names).toContain('first');
    expect(names).not.toContain('second');
  });

  it('answers a page’s lazy count asked after a replay’s swap, now and in the past', async () => {
    platform = await openFreshPlatform();
    const { experimentId } = await platform.commands.experiments.create(ctx, { name: 'e' });
    const first = await platform.commands.runs.start(ctx, { experimentId, name: 'a' });
    await platform.commands.runs.start(ctx, { experimentId, name: 'b' });
    const now = platform.read.runs.search({ experimentIds: [experimentId] });
    const past = (await platform.timeTravel.at({ position: first.position })).runs.search({ experimentIds: [experimentId] });
    await replayWhileServing(platform);
    // Both pages came from connections the swap closed.
    expect(now.totalCount()).toBe(2);
    expect(past.totalCount()).toBe(1);
  });
});
