import {
  datasetStream,
  environmentStream,
  modelStream,
  NotFound,
  runLineageStream,
  runStream,
  ValidationFailed,
  type RecordedEvent,
} from '@chronicle/domain';
import type { EventStore } from '@chronicle/event-store';
import { readStreamUntil, resolveAsOf, type AsOf } from '../as-of/resolve-position.js';
import { foldDatasetVersions, type DatasetVersionFacts } from '../facts/dataset-facts.js';
import { foldRunInputs } from '../facts/lineage-facts.js';
import { foldRunFacts } from '../facts/run-facts.js';
import type { IntegrityReport } from '../verify-log.js';
import { buildAuditReport } from './build-report.js';
import type { ModelVersionAuditReport } from './report.js';

export interface LoadReportOptions {
  asOf?: AsOf | null;
  /** Every deployment environment's name; their streams are read for the version's deployments. */
  environments: readonly string[];
  /** Verifies the whole log (libs/audit verifyLog); omit to skip the integrity section. */
  verify?: (() => Promise<IntegrityReport>) | null;
  /** The report's generation time (the caller's clock). */
  now: number;
}

// Renames chain streams; a bound keeps a corrupted chain from looping.
const MAX_RENAMES = 32;

/**
 * Reads the streams that tell one model version's story, up to the as-of position: the model's
 * (and, after renames, its earlier names'), the training run's, its declared inputs, the
 * datasets it read and the environments it was deployed to. Then folds them into the report.
 */
export async function loadAuditReport(store: EventStore, model: string, version: number, opts: LoadReportOptions): Promise<ModelVersionAuditReport> {
  if (typeof model !== 'string' || model.trim() === '') throw new ValidationFailed('model must name a registered model', { field: 'model' });
  if (!Number.isSafeInteger(version) || version < 1) throw new ValidationFailed('version must be a whole number, 1 or more', { field: 'version' });
  const at = await resolveAsOf(store, opts.asOf ?? null);
  const streams = new Map<string, readonly RecordedEvent[]>();
  const read = async (stream: string) => {
    const events = await readStreamUntil(store, stream, at.position);
    streams.set(stream, events);
    return events;
  };
  const when = opts.asOf ? ` at position ${at.position}` : '';

  let modelEvents: RecordedEvent[] = await read(modelStream(model));
  if (modelEvents.length === 0) throw new NotFound(`model ${model} does not exist${when}`, { model });
  const previousNames: string[] = [];
  let current = model;
  for (let i = 0; i < MAX_RENAMES && modelEvents[0]?.type === 'ModelRenamedFrom'; i++) {
    const previous = String((modelEvents[0].data as { previousName: string }).previousName);
    const older = await read(modelStream(previous));
    // The old name is free after the rename: later events there belong to another model.
    const cut = older.findIndex((e) => e.type === 'ModelRenamed' && (e.data as { newName?: string }).newName === current);
    const kept = cut < 0 ? older : older.slice(0, cut + 1);
    streams.set(modelStream(previous), kept);
    modelEvents = [...kept, ...modelEvents];
    previousNames.push(previous);
    current = previous;
  }
  // A deleted model's name can be registered again, restarting its version numbers on the same
  // stream: the report is about the model that holds the name now.
  const deletedAt = modelEvents.map((e) => e.type).lastIndexOf('ModelDeleted');
  if (deletedAt >= 0) {
    if (deletedAt === modelEvents.length - 1)
      throw new NotFound(`model ${model} was deleted${when ? '' : ' (ask as of an earlier position for its history)'}${when}`, { model });
    modelEvents = modelEvents.slice(deletedAt + 1);
  }
  const created = modelEvents.find((e) => e.type === 'ModelVersionCreated' && (e.data as { version: number }).version === version);
  if (!created) throw new NotFound(`model ${model} has no version ${version}${when}`, { model, version });

  const runId = String((created.data as { runId: string }).runId);
  const run = foldRunFacts(await read(runStream(runId)));
  const inputs = foldRunInputs(await read(runLineageStream(runId)));
  const datasets = new Map<string, ReadonlyMap<number, DatasetVersionFacts>>();
  for (const name of new Set(inputs.map((i) => i.datasetName))) datasets.set(name, foldDatasetVersions(await read(datasetStream(name))));

  const names = new Set([model, ...previousNames]);
  const environments = new Map<string, readonly RecordedEvent[]>();
  for (const env of opts.environments) {
    const events = await readStreamUntil(store, environmentStream(env), at.position);
    environments.set(env, events);
    const deploysUs = events.some((e) => {
      const d = e.data as { model?: string; version?: number };
      return e.type === 'DeploymentRequested' && names.has(String(d.model)) && d.version === version;
    });
    if (deploysUs) streams.set(environmentStream(env), events);
  }

  return buildAuditReport({
    model,
    version,
    modelEvents,
    previousNames,
    run,
    inputs,
    datasets,
    environments,
    streams,
    integrity: opts.verify ? await opts.verify() : null,
    asOf: at,
    generatedAt: opts.now,
  });
}
