import { text } from 'node:stream/consumers';
import type { BlobStore } from '@chronicle/blobs';
import { NotFound, ValidationFailed, type ManifestFact, type TabularSummary } from '@chronicle/domain';
import { summarizeCsv } from './csv.js';
import { parseManifest, type ManifestEntry } from './manifest.js';

// Summaries travel in the commit event; past this many CSV files a version carries none beyond them.
export const MAX_TABULAR_FILES = 200;
const MAX_CSV_BYTES = 1024 * 1024 * 1024;

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** Reads and parses a stored manifest; NotFound when it was never uploaded. */
export async function loadManifest(blobs: BlobStore, sha256: string): Promise<ManifestEntry[]> {
  const stream = await blobs.get(sha256, { verify: true });
  return parseManifest(await text(stream));
}

/**
 * What a commit's event records about its manifest. Refuses a manifest naming content the
 * server lacks: a version is recorded only once every byte of it is stored.
 */
export function createManifestInspector(blobs: BlobStore) {
  return async function inspectManifest(sha256: string): Promise<ManifestFact> {
    let entries: ManifestEntry[];
    try {
      entries = await loadManifest(blobs, sha256);
    } catch (e) {
      if (e instanceof NotFound) throw new ValidationFailed(`manifest ${sha256} was not uploaded; PUT it to /api/v1/blobs first`, { manifest: sha256 });
      throw e;
    }
    const unique = [...new Set(entries.map((e) => e.sha256))];
    const present = await blobs.statMany(unique);
    const missing = unique.filter((_, i) => present[i] === null);
    if (missing.length > 0)
      throw new ValidationFailed(`${missing.length} file(s) of the manifest were not uploaded`, { missing: missing.slice(0, 20) });
    const sizeOf = new Map(unique.map((h, i) => [h, present[i]?.size]));
    const sizeMismatch = entries.find((e) => sizeOf.get(e.sha256) !== e.size);
    if (sizeMismatch) throw new ValidationFailed(`manifest size of "${sizeMismatch.path}" does not match its content`, { path: sizeMismatch.path });
    const csvs = entries.filter((e) => e.path.toLowerCase().endsWith('.csv') && e.size <= MAX_CSV_BYTES).slice(0, MAX_TABULAR_FILES);
    const tabular: TabularSummary[] = await mapLimit(csvs, 4, async (e) => ({ path: e.path, ...(await summarizeCsv(await blobs.get(e.sha256))) }));
    return { sha256, fileCount: entries.length, totalBytes: entries.reduce((n, e) => n + e.size, 0), tabular };
  };
}
