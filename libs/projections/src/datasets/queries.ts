import { NotFound, type TabularSummary } from '@chronicle/domain';
import type { SqliteDatabase } from '@chronicle/event-store';

export interface DatasetView {
  name: string;
  description: string;
  latestVersion: number;
  createdAt: number;
  updatedAt: number;
  createdBy: string;
}

export interface DatasetVersionView {
  dataset: string;
  version: number;
  versionId: string;
  parentVersion: number | null;
  manifestSha256: string;
  fileCount: number;
  totalBytes: number;
  tabular: TabularSummary[];
  message: string;
  author: string;
  tags: string[];
  deprecated: boolean;
  deprecationReason: string | null;
  createdAt: number;
}

interface VersionRow {
  name: string;
  version: number;
  version_id: string;
  parent_version: number | null;
  manifest_sha256: string;
  file_count: number;
  total_bytes: number;
  tabular: string;
  message: string;
  author: string;
  deprecated: number;
  deprecation_reason: string | null;
  created_at: number;
}

const DATASET = 'name, description, latest_version AS latestVersion, created_at AS createdAt, updated_at AS updatedAt, created_by AS createdBy';

export function datasetQueries(db: SqliteDatabase) {
  const all = db.prepare<[string], DatasetView>(`SELECT ${DATASET} FROM rm_datasets WHERE name LIKE ? ESCAPE '\\' ORDER BY name`);
  const one = db.prepare<[string], DatasetView>(`SELECT ${DATASET} FROM rm_datasets WHERE name = ?`);
  const versions = db.prepare<[string], VersionRow>('SELECT * FROM rm_dataset_versions WHERE name = ? ORDER BY version DESC');
  const version = db.prepare<[string, number], VersionRow>('SELECT * FROM rm_dataset_versions WHERE name = ? AND version = ?');
  const byId = db.prepare<[string], VersionRow>('SELECT * FROM rm_dataset_versions WHERE version_id = ?');
  const tagsOf = db.prepare<[string, number], { tag: string }>('SELECT tag FROM rm_dataset_tags WHERE name = ? AND version = ? ORDER BY tag');
  const tagged = db.prepare<[string, string], { version: number }>('SELECT version FROM rm_dataset_tags WHERE name = ? AND tag = ?');

  const toVersion = (r: VersionRow): DatasetVersionView => ({
    dataset: r.name,
    version: r.version,
    versionId: r.version_id,
    parentVersion: r.parent_version,
    manifestSha256: r.manifest_sha256,
    fileCount: r.file_count,
    totalBytes: r.total_bytes,
    tabular: JSON.parse(r.tabular) as TabularSummary[],
    message: r.message,
    author: r.author,
    tags: tagsOf.all(r.name, r.version).map((t) => t.tag),
    deprecated: r.deprecated === 1,
    deprecationReason: r.deprecation_reason,
    createdAt: r.created_at,
  });

  const getVersion = (name: string, v: number) => {
    const r = version.get(name, v);
    return r ? toVersion(r) : null;
  };

  return {
    list: (opts: { nameContains?: string } = {}) => all.all(`%${(opts.nameContains ?? '').replace(/[\\%_]/g, (c) => `\\${c}`)}%`),
    get: (name: string) => one.get(name) ?? null,
    versions: (name: string) => versions.all(name).map(toVersion),
    version: getVersion,
    versionById: (versionId: string) => {
      const r = byId.get(versionId);
      return r ? toVersion(r) : null;
    },
    /** A version by number, tag or "latest"; NotFound when it names none. */
    resolve(name: string, ref: string | number): DatasetVersionView {
      const ds = one.get(name);
      if (!ds) throw new NotFound(`dataset ${name} does not exist`, { dataset: name });
      let n: number | undefined;
      if (typeof ref === 'number') n = ref;
      else if (/^\d+$/.test(ref)) n = Number(ref);
      else if (ref === 'latest') n = ds.latestVersion;
      else n = tagged.get(name, ref)?.version;
      const found = n === undefined ? null : getVersion(name, n);
      if (!found) throw new NotFound(`dataset ${name} has no version or tag "${ref}"`, { dataset: name, ref });
      return found;
    },
  };
}
