import { assertNever, ConcurrencyConflict, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import type { Decider } from '../shared/decider.js';
import { validateText } from '../shared/validation.js';
import type { DatasetCommand } from './commands.js';
import { datasetVersionId, type DatasetEvent } from './events.js';

export interface DatasetVersionState {
  manifestSha256: string;
  deprecated: boolean;
}

export interface Dataset {
  name: string;
  created: boolean;
  /** The newest version (0: none yet); commits form one linear chain, so it is also the count. */
  head: number;
  versions: Record<number, DatasetVersionState>;
  tags: Record<string, number>;
}

export const initialDataset = (): Dataset => ({ name: '', created: false, head: 0, versions: {}, tags: {} });

// '@' and ':' separate a dataset from its version or tag in references (`images@3`, `images:gold`).
const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
// Starting with a letter keeps a tag from ever reading as a version number.
const TAG = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const MAX_MESSAGE = 10_000;
const MAX_REASON = 2_000;
const SHA256 = /^[0-9a-f]{64}$/;

export function validateDatasetName(name: unknown): string {
  if (typeof name !== 'string' || !DATASET_NAME.test(name))
    throw new ValidationFailed('a dataset name is 1-128 letters, digits, dots, dashes or underscores, starting with a letter or digit', {
      field: 'name',
    });
  return name;
}

export function validateDatasetTag(tag: unknown): string {
  if (typeof tag !== 'string' || !TAG.test(tag))
    throw new ValidationFailed('a dataset tag is 1-64 letters, digits, dots, dashes or underscores, starting with a letter', {
      field: 'tag',
      tag,
    });
  return tag;
}

function requireDataset(ds: Dataset, name: string): void {
  if (!ds.created) throw new NotFound(`dataset ${name} does not exist`, { dataset: name });
}

export function requireDatasetVersion(ds: Dataset, version: number): DatasetVersionState {
  const v = Number.isSafeInteger(version) ? ds.versions[version] : undefined;
  if (!v) throw new NotFound(`dataset ${ds.name} has no version ${version}`, { dataset: ds.name, version });
  return v;
}

/** A version as given by a caller: its number, or one of its tags. */
export function resolveDatasetVersion(ds: Dataset, ref: number | string): number {
  if (typeof ref === 'number') return requireDatasetVersion(ds, ref) && ref;
  if (/^\d+$/.test(ref)) return resolveDatasetVersion(ds, Number(ref));
  const version = ds.tags[ref];
  if (version === undefined) throw new NotFound(`dataset ${ds.name} has no tag "${ref}"`, { dataset: ds.name, tag: ref });
  return version;
}

function tagEvents(ds: Dataset, version: number, tags: readonly string[], at: number): DatasetEvent[] {
  const events: DatasetEvent[] = [];
  for (const raw of new Set(tags)) {
    const tag = validateDatasetTag(raw);
    const holder = ds.tags[tag];
    if (holder === version) continue;
    // Tags name data for reproducibility: moving one would silently change what `:gold` checks out.
    if (holder !== undefined)
      throw new IllegalTransition(`tag "${tag}" of dataset ${ds.name} already names version ${holder}; tags never move`, {
        dataset: ds.name,
        tag,
        version: holder,
      });
    events.push({ type: 'DatasetVersionTagged', data: { name: ds.name, version, tag, at } });
  }
  return events;
}

export function decideDataset(cmd: DatasetCommand, ds: Dataset): DatasetEvent[] {
  switch (cmd.type) {
    case 'CreateDataset': {
      const name = validateDatasetName(cmd.data.name);
      if (ds.created) throw new ConcurrencyConflict(`dataset ${name} already exists`, { dataset: name });
      const description = validateText('description', cmd.data.description, MAX_MESSAGE, { allowEmpty: true });
      return [{ type: 'DatasetCreated', data: { name, description, at: cmd.data.at } }];
    }
    case 'CommitDatasetVersion': {
      const d = cmd.data;
      requireDataset(ds, d.name);
      const m = d.manifest;
      if (!SHA256.test(m.sha256)) throw new ValidationFailed('manifest must be a SHA-256 address', { field: 'manifest' });
      if (!Number.isSafeInteger(m.fileCount) || m.fileCount < 0 || !Number.isSafeInteger(m.totalBytes) || m.totalBytes < 0)
        throw new ValidationFailed('manifest file count and size must be non-negative integers', { field: 'manifest' });
      const head = ds.head === 0 ? null : ds.head;
      // The same content as the head is no new version, whatever parent the caller saw.
      if (head !== null && ds.versions[head]!.manifestSha256 === m.sha256) return [];
      if (d.parentVersion !== head)
        throw new ConcurrencyConflict(
          `dataset ${ds.name} is at version ${head ?? 'none'}, not ${d.parentVersion ?? 'none'}: commit on the new head`,
          { dataset: ds.name, expectedParent: d.parentVersion, head },
        );
      const version = ds.head + 1;
      const message = validateText('message', d.message, MAX_MESSAGE, { allowEmpty: true });
      const committed: DatasetEvent = {
        type: 'DatasetVersionCommitted',
        data: {
          name: ds.name,
          version,
          versionId: datasetVersionId(ds.name, version),
          parentVersion: head,
          manifestSha256: m.sha256,
          fileCount: m.fileCount,
          totalBytes: m.totalBytes,
          tabular: m.tabular,
          message,
          author: d.author,
          tags: [...new Set(d.tags)],
          at: d.at,
        },
      };
      return [committed, ...tagEvents(ds, version, d.tags, d.at)];
    }
    case 'TagDatasetVersion': {
      requireDataset(ds, cmd.data.name);
      requireDatasetVersion(ds, cmd.data.version);
      return tagEvents(ds, cmd.data.version, [cmd.data.tag], cmd.data.at);
    }
    case 'DeprecateDatasetVersion': {
      const d = cmd.data;
      requireDataset(ds, d.name);
      const v = requireDatasetVersion(ds, d.version);
      const reason = validateText('reason', d.reason, MAX_REASON);
      if (v.deprecated) return [];
      return [{ type: 'DatasetVersionDeprecated', data: { name: ds.name, version: d.version, reason, at: d.at } }];
    }
    default:
      return assertNever(cmd);
  }
}

export function evolveDataset(ds: Dataset, ev: DatasetEvent): Dataset {
  switch (ev.type) {
    case 'DatasetCreated':
      return { ...initialDataset(), name: ev.data.name, created: true };
    case 'DatasetVersionCommitted':
      return {
        ...ds,
        head: ev.data.version,
        versions: { ...ds.versions, [ev.data.version]: { manifestSha256: ev.data.manifestSha256, deprecated: false } },
      };
    case 'DatasetVersionTagged':
      return { ...ds, tags: { ...ds.tags, [ev.data.tag]: ev.data.version } };
    case 'DatasetVersionDeprecated': {
      const v = ds.versions[ev.data.version];
      return v ? { ...ds, versions: { ...ds.versions, [ev.data.version]: { ...v, deprecated: true } } } : ds;
    }
    default:
      return assertNever(ev);
  }
}

export const datasetDecider: Decider<Dataset, DatasetCommand, DatasetEvent> = {
  decide: decideDataset,
  evolve: evolveDataset,
  initialState: initialDataset,
};
