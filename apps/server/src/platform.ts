import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  loadAuditReport,
  loadOrCreateSealKey,
  loadReproductionRecipe,
  resolveAsOf,
  sealLog,
  SEAL_KEY_FILE,
  verifyLog,
  type AsOf,
  type IntegrityReport,
  type ModelVersionAuditReport,
  type ReproductionRecipe,
  type ResolvedAsOf,
  type SealResult,
} from '@chronicle/audit';
import { createLocalBlobStore, type BlobStore } from '@chronicle/blobs';
import { createCommands, type Commands } from '@chronicle/commands';
import { createManifestInspector, encodeManifest } from '@chronicle/datasets';
import { Readable } from 'node:stream';
import { createSqliteEventStore, openSqliteDatabase, type EventStore, type SqliteDatabase } from '@chronicle/event-store';
import {
  allProjections,
  createReadModels,
  dropEmbeddedReadModels,
  mapResultFunctions,
  openReadModelsDatabase,
  openTimeTravel,
  ProjectionRunner,
  READ_MODELS_FILE,
  replaceDatabaseFile,
  type QueryFn,
  type ReadModels,
} from '@chronicle/projections';
import { Unavailable } from '@chronicle/domain';
import type { Logger } from 'pino';

export interface Platform {
  /** The event log's file (and the workers' own checkpoints). */
  db: SqliteDatabase;
  /** Puts a rebuilt read-model file (a replay's, closed) in place of the live one; returns its connection. */
  replaceReadModels(rebuilt: string): SqliteDatabase;
  store: EventStore;
  runner: ProjectionRunner;
  read: ReadModels;
  commands: Commands;
  /** Artifact contents, by SHA-256, in `<dataDir>/blobs`. */
  blobs: BlobStore;
  /** Verification trusts only seals signed with this data directory's seal key. */
  audit: {
    verify(): Promise<IntegrityReport>;
    seal(): Promise<SealResult | null>;
    recipe(runId: string, asOf: AsOf | null): Promise<ReproductionRecipe>;
    report(model: string, version: number, opts: { asOf: AsOf | null; verify: boolean }): Promise<ModelVersionAuditReport>;
  };
  /** The read models at a past point of the log (GraphQL's `asOf`). */
  timeTravel: { at(asOf: AsOf): Promise<ReadModels>; resolve(asOf: AsOf): Promise<ResolvedAsOf> };
  close(): Promise<void>;
}

export const DATABASE_FILE = 'chronicle.db';

const groupOf = (models: ReadModels, name: PropertyKey) => (models as unknown as Record<PropertyKey, unknown>)[name];

/**
 * Read models that stay valid for whoever holds them: each access reaches the connection of
 * the moment, which a replay replaces along with the whole file (closing the old one). So do
 * the functions a result carries (a page's lazy totalCount): called after a swap, they ask the
 * same query of the new models, whose answer is the old one's or newer.
 */
function readModelsVia(now: () => ReadModels): ReadModels {
  // Each models' wrapped groups, made once: every resolver goes through here.
  const wrapped = new WeakMap<ReadModels, Map<PropertyKey, object>>();
  const wrapGroup = (models: ReadModels, groupName: PropertyKey, group: object) =>
    new Proxy(group, {
      get: (target, name) => {
        const query = Reflect.get(target, name) as unknown;
        if (typeof query !== 'function') return query;
        return (...args: unknown[]) =>
          mapResultFunctions((query as QueryFn).apply(target, args), (fn, key) => (...a) => {
            if (now() === models) return fn(...a);
            const again = (groupOf(now(), groupName) as Record<PropertyKey, QueryFn>)[name]!(...args);
            return (again as Record<string, QueryFn>)[key]!(...a);
          });
      },
    });
  return new Proxy({} as ReadModels, {
    get: (_target, groupName) => {
      const models = now();
      const group = groupOf(models, groupName);
      // Not a query group: what awaiting the models looks up (`then`), for one.
      if (typeof group !== 'object' || group === null) return group;
      let groups = wrapped.get(models);
      if (!groups) wrapped.set(models, (groups = new Map()));
      let g = groups.get(groupName);
      if (!g) groups.set(groupName, (g = wrapGroup(models, groupName, group)));
      return g;
    },
  });
}

/**
 * Waits until the read models show the change at `position`. If projecting has stopped (a
 * projection failed), the change is durable in the log but no read model will show it: the
 * caller gets a 503 that says so, not an internal error.
 */
async function readModelsAt(runner: ProjectionRunner, position: number): Promise<void> {
  try {
    await runner.waitFor(position);
  } catch (e) {
    throw new Unavailable(
      `the change was recorded at position ${position}, but the read models stopped at position ${runner.position} because a projection failed (${
        e instanceof Error ? e.message : String(e)
      }); the server log has the details, and a restart or \`chronicle replay\` rebuilds them`,
      { position, projected: runner.position },
    );
  }
}

/**
 * The embedded platform: one SQLite file holds the event log, another the read models (rebuilt
 * from the log whenever they are missing or outdated), and the projections run in this
 * process, right behind every append.
 */
export async function openPlatform(opts: { dataDir: string; logger: Logger; clock?: () => number }): Promise<Platform> {
  mkdirSync(opts.dataDir, { recursive: true });
  const db = openSqliteDatabase(join(opts.dataDir, DATABASE_FILE));
  const store = createSqliteEventStore({ db, ...(opts.clock ? { clock: opts.clock } : {}) });
  const moved = dropEmbeddedReadModels(db);
  if (moved.length > 0)
    opts.logger.info({ tables: moved.length, file: READ_MODELS_FILE }, `read models now live in ${READ_MODELS_FILE}: dropped them from ${DATABASE_FILE}, rebuilding`);
  const readModelsPath = join(opts.dataDir, READ_MODELS_FILE);
  let readDb = openReadModelsDatabase(readModelsPath);
  const runner = new ProjectionRunner({
    store,
    db: readDb,
    projections: allProjections,
    onError: (e) => opts.logger.fatal({ err: e }, 'projection failed; read models are stale until restart'),
  });
  const started = performance.now();
  const before = runner.position;
  await runner.catchUp();
  if (runner.position > before)
    opts.logger.info(
      { from: before, to: runner.position, ms: Math.round(performance.now() - started) },
      'read models caught up with the event log',
    );
  runner.start();
  let current = createReadModels(readDb);
  const read = readModelsVia(() => current);
  // A second connection whose views show the read models at any past position.
  let travel = openTimeTravel({ path: readModelsPath });
  // Runs while a replay holds the runner paused.
  const replaceReadModels = (rebuilt: string): SqliteDatabase => {
    travel.close();
    readDb.close();
    let failure: unknown = null;
    try {
      replaceDatabaseFile(readModelsPath, rebuilt);
    } catch (e) {
      failure = e;
    }
    // Replaced or not, the file at the path is whole: serve from it again.
    readDb = openReadModelsDatabase(readModelsPath);
    current = createReadModels(readDb);
    travel = openTimeTravel({ path: readModelsPath });
    if (failure) {
      runner.reload(readDb);
      throw failure;
    }
    return readDb;
  };
  const commands = createCommands({
    store,
    ...(opts.clock ? { clock: opts.clock } : {}),
    afterAppend: (position) => readModelsAt(runner, position),
    // `blobs` is opened below; the inspector only runs once a commit arrives.
    inspectManifest: (sha256) => createManifestInspector(blobs)(sha256),
    deployedIn: (model, version) => read.deployments.deployedIn(model, version),
    // A model saved as a directory (MLflow's layout) is registered by its manifest, stored as a blob.
    storeManifest: async (files) => {
      const blob = await blobs.put(Readable.from([encodeManifest(files)]));
      return { sha256: blob.sha256, size: blob.size };
    },
    promotionFacts: {
      runMetrics: (runId) => Object.fromEntries(read.runs.latestMetrics(runId).map((m) => [m.key, m.value])),
      runInputs: (runId) => read.lineage.runInputs(runId),
    },
  });
  const sealKey = loadOrCreateSealKey(join(opts.dataDir, SEAL_KEY_FILE));
  const blobs = createLocalBlobStore({ root: join(opts.dataDir, 'blobs') });
  return {
    blobs,
    db,
    replaceReadModels,
    store,
    runner,
    read,
    commands,
    audit: {
      verify: () => verifyLog(store, { trustedSealKeys: [sealKey.publicKeyPem] }),
      seal: () => sealLog(store, sealKey, opts.clock ? { clock: opts.clock } : {}),
      recipe: (runId, asOf) => loadReproductionRecipe(store, runId, asOf),
      report: (model, version, o) =>
        loadAuditReport(store, model, version, {
          asOf: o.asOf,
          environments: read.deployments.environments().map((e) => e.name),
          verify: o.verify ? () => verifyLog(store, { trustedSealKeys: [sealKey.publicKeyPem] }) : null,
          now: (opts.clock ?? Date.now)(),
        }),
    },
    timeTravel: {
      resolve: (asOf) => resolveAsOf(store, asOf),
      async at(asOf) {
        const { position } = await resolveAsOf(store, asOf);
        // The log may be a step ahead of the read models; the past asked about must be in them.
        try {
          await runner.waitFor(position);
        } catch (e) {
          throw new Unavailable(
            `the read models stopped at position ${runner.position}, before the asked position ${position}, because a projection failed (${e instanceof Error ? e.message : String(e)})`,
            { position, projected: runner.position },
          );
        }
        // A request that spans a replay's swap reads the same past from the new file.
        return readModelsVia(() => travel.at(position));
      },
    },
    async close() {
      await runner.stop();
      travel.close();
      await store.close();
      if (db.open) db.close();
      if (readDb.open) readDb.close();
    },
  };
}
