import type { TabularSummary } from '@chronicle/domain';
import type { ManifestEntry } from './manifest.js';

export interface ModifiedFile {
  path: string;
  oldSha256: string;
  newSha256: string;
  oldSize: number;
  newSize: number;
}

export interface CsvChange {
  path: string;
  rowsBefore: number | null;
  rowsAfter: number | null;
  columnsAdded: string[];
  columnsRemoved: string[];
}

export interface ManifestDiff {
  added: ManifestEntry[];
  removed: ManifestEntry[];
  modified: ModifiedFile[];
  unchangedCount: number;
  bytesAdded: number;
  bytesRemoved: number;
  /** Bytes of added files, plus new sizes of modified ones: what a checkout of `to` over `from` fetches. */
  bytesChanged: number;
  csv: CsvChange[];
}

/** Both manifests are sorted by path, so one merge pass compares them. */
export function diffManifests(from: readonly ManifestEntry[], to: readonly ManifestEntry[], tabular: { from: TabularSummary[]; to: TabularSummary[] } = { from: [], to: [] }): ManifestDiff {
  const d: ManifestDiff = { added: [], removed: [], modified: [], unchangedCount: 0, bytesAdded: 0, bytesRemoved: 0, bytesChanged: 0, csv: [] };
  let i = 0;
  let j = 0;
  while (i < from.length || j < to.length) {
    const a = from[i];
    const b = to[j];
    if (a && (!b || a.path < b.path)) d.removed.push(a), (d.bytesRemoved += a.size), i++;
    else if (b && (!a || b.path < a.path)) d.added.push(b), (d.bytesAdded += b.size), (d.bytesChanged += b.size), j++;
    else if (a && b) {
      if (a.sha256 !== b.sha256) {
        d.modified.push({ path: a.path, oldSha256: a.sha256, newSha256: b.sha256, oldSize: a.size, newSize: b.size });
        d.bytesChanged += b.size;
      } else d.unchangedCount++;
      i++, j++;
    }
  }
  const before = new Map(tabular.from.map((t) => [t.path, t]));
  const after = new Map(tabular.to.map((t) => [t.path, t]));
  const changedPaths = new Set([...d.added, ...d.removed].map((e) => e.path).concat(d.modified.map((m) => m.path)));
  for (const path of [...changedPaths].sort()) {
    const x = before.get(path);
    const y = after.get(path);
    if (!x && !y) continue;
    d.csv.push({
      path,
      rowsBefore: x?.rows ?? null,
      rowsAfter: y?.rows ?? null,
      columnsAdded: (y?.columns ?? []).filter((c) => !(x?.columns ?? []).includes(c)),
      columnsRemoved: (x?.columns ?? []).filter((c) => !(y?.columns ?? []).includes(c)),
    });
  }
  return d;
}
