import type { DatasetEvent, RecordedEvent } from '@chronicle/domain';

/** One committed version as its dataset's stream tells it, with who did what to it and when. */
export interface DatasetVersionFacts {
  dataset: string;
  version: number;
  versionId: string;
  parentVersion: number | null;
  manifestSha256: string;
  fileCount: number;
  totalBytes: number;
  message: string;
  committedBy: string;
  committedAt: number;
  committedPosition: number;
  tags: string[];
  deprecated: boolean;
  deprecationReason: string | null;
  deprecatedBy: string | null;
  deprecatedAt: number | null;
  deprecatedPosition: number | null;
}

/** Every version of one dataset, by number, folded from its stream. */
export function foldDatasetVersions(events: readonly RecordedEvent[]): Map<number, DatasetVersionFacts> {
  const versions = new Map<number, DatasetVersionFacts>();
  for (const e of events) {
    const ev = e as unknown as DatasetEvent;
    switch (ev.type) {
      case 'DatasetVersionCommitted': {
        const d = ev.data;
        versions.set(d.version, {
          dataset: d.name,
          version: d.version,
          versionId: d.versionId,
          parentVersion: d.parentVersion,
          manifestSha256: d.manifestSha256,
          fileCount: d.fileCount,
          totalBytes: d.totalBytes,
          message: d.message,
          committedBy: e.actor,
          committedAt: e.recordedAt,
          committedPosition: e.position,
          tags: [...d.tags],
          deprecated: false,
          deprecationReason: null,
          deprecatedBy: null,
          deprecatedAt: null,
          deprecatedPosition: null,
        });
        break;
      }
      case 'DatasetVersionTagged': {
        const v = versions.get(ev.data.version);
        if (v && !v.tags.includes(ev.data.tag)) v.tags.push(ev.data.tag);
        break;
      }
      case 'DatasetVersionDeprecated': {
        const v = versions.get(ev.data.version);
        if (v) Object.assign(v, { deprecated: true, deprecationReason: ev.data.reason, deprecatedBy: e.actor, deprecatedAt: e.recordedAt, deprecatedPosition: e.position });
        break;
      }
      default:
        break;
    }
  }
  return versions;
}
