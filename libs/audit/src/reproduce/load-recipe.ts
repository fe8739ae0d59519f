import { datasetStream, NotFound, runLineageStream, runStream, ValidationFailed } from '@chronicle/domain';
import type { EventStore } from '@chronicle/event-store';
import { readStreamUntil, resolveAsOf, type AsOf } from '../as-of/resolve-position.js';
import { foldDatasetVersions, type DatasetVersionFacts } from '../facts/dataset-facts.js';
import { foldRunInputs } from '../facts/lineage-facts.js';
import { foldRunFacts } from '../facts/run-facts.js';
import { buildRecipe, type ReproductionRecipe } from './recipe.js';

/**
 * Builds a run's recipe from the log itself, read only up to the as-of position: the run's
 * stream, its declared inputs and the streams of the datasets it read. A later param, input
 * or deprecation is invisible to a recipe asked for an earlier point.
 */
export async function loadReproductionRecipe(store: EventStore, runId: string, asOf: AsOf | null = null): Promise<ReproductionRecipe> {
  if (typeof runId !== 'string' || runId.trim() === '') throw new ValidationFailed('runId must name a run', { field: 'runId' });
  const at = await resolveAsOf(store, asOf);
  const run = foldRunFacts(await readStreamUntil(store, runStream(runId), at.position));
  if (!run) {
    const existsNow = asOf !== null && (await store.readStream(runStream(runId), { limit: 1 })).events.length > 0;
    throw new NotFound(existsNow ? `run ${runId} did not exist yet at position ${at.position}` : `run ${runId} does not exist`, {
      runId,
      ...(existsNow ? { position: at.position } : {}),
    });
  }
  const inputs = foldRunInputs(await readStreamUntil(store, runLineageStream(runId), at.position));
  const datasets = new Map<string, ReadonlyMap<number, DatasetVersionFacts>>();
  for (const name of new Set(inputs.map((i) => i.datasetName)))
    datasets.set(name, foldDatasetVersions(await readStreamUntil(store, datasetStream(name), at.position)));
  return buildRecipe({ run, inputs, datasets, asOf: at });
}
