import { describe, expect, it } from 'vitest';
import { ConcurrencyConflict, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import type { CommitDatasetVersion, DatasetCommand } from './commands.js';
import { decideDataset, evolveDataset, initialDataset, resolveDatasetVersion } from './decider.js';
import type { DatasetEvent } from './events.js';

const given = (...past: DatasetEvent[]) => ({
  state: () => past.reduce(evolveDataset, initialDataset()),
  when: (cmd: DatasetCommand) => decideDataset(cmd, past.reduce(evolveDataset, initialDataset())),
});

const created = given().when({ type: 'CreateDataset', data: { name: 'images', description: 'cats', at: 1 } })[0]!;
const manifest = (c: string, fileCount = 2) => ({ sha256: c.repeat(64), fileCount, totalBytes: 10, tabular: [] });
const commit = (parentVersion: number | null, m = manifest('a'), tags: string[] = []): CommitDatasetVersion => ({
  type: 'CommitDatasetVersion',
  data: { name: 'images', parentVersion, manifest: m, message: 'first', author: 'user:ana', tags, at: 2 },
});
const v1 = given(created).when(commit(null))[0]!;
const v2 = given(created, v1).when(commit(1, manifest('b')))[0]!;

describe('creating a dataset', () => {
  it('records the name and description', () =>
    expect(created).toEqual({ type: 'DatasetCreated', data: { name: 'images', description: 'cats', at: 1 } }));
  it('refuses a name already taken', () =>
    expect(() => given(created).when({ type: 'CreateDataset', data: { name: 'images', description: '', at: 3 } })).toThrow(ConcurrencyConflict));
  it('refuses names that would break references', () => {
    for (const name of ['a@b', 'a:b', '', '-x', 'a/b'])
      expect(() => given().when({ type: 'CreateDataset', data: { name, description: '', at: 1 } })).toThrow(ValidationFailed);
  });
});

describe('committing versions', () => {
  it('numbers versions from 1 and links each to its parent', () => {
    expect(v1.data).toMatchObject({ version: 1, versionId: 'images@1', parentVersion: null, manifestSha256: 'a'.repeat(64), author: 'user:ana' });
    expect(v2.data).toMatchObject({ version: 2, versionId: 'images@2', parentVersion: 1 });
  });
  it('gives no version when the manifest equals the head', () => expect(given(created, v1).when(commit(1))).toEqual([]));
  it('refuses a stale parent with a conflict, naming the head', () => {
    expect(() => given(created, v1, v2).when(commit(1, manifest('c')))).toThrow(ConcurrencyConflict);
    expect(() => given(created, v1).when(commit(null, manifest('c')))).toThrow(/at version 1/);
  });
  it('refuses a commit to a dataset that does not exist', () => expect(() => given().when(commit(null))).toThrow(NotFound));
  it('refuses a manifest that is not a SHA-256', () =>
    expect(() => given(created).when(commit(null, { ...manifest('a'), sha256: 'xyz' }))).toThrow(ValidationFailed));
  it('tags the new version in the same decision', () =>
    expect(given(created).when(commit(null, manifest('a'), ['gold', 'gold']))).toEqual([
      expect.objectContaining({ type: 'DatasetVersionCommitted' }),
      { type: 'DatasetVersionTagged', data: { name: 'images', version: 1, tag: 'gold', at: 2 } },
    ]));
});

describe('tags and deprecation', () => {
  const tagged = given(created, v1).when({ type: 'TagDatasetVersion', data: { name: 'images', version: 1, tag: 'gold', at: 3 } })[0]!;
  it('tags a version, and tagging it again is a no-op', () => {
    expect(tagged.data).toEqual({ name: 'images', version: 1, tag: 'gold', at: 3 });
    expect(given(created, v1, tagged).when({ type: 'TagDatasetVersion', data: { name: 'images', version: 1, tag: 'gold', at: 4 } })).toEqual([]);
  });
  it('never moves a tag to another version', () =>
    expect(() =>
      given(created, v1, v2, tagged).when({ type: 'TagDatasetVersion', data: { name: 'images', version: 2, tag: 'gold', at: 4 } }),
    ).toThrow(IllegalTransition));
  it('refuses tags that read as version numbers', () =>
    expect(() => given(created, v1).when({ type: 'TagDatasetVersion', data: { name: 'images', version: 1, tag: '2', at: 4 } })).toThrow(
      ValidationFailed,
    ));
  it('resolves a version by number, numeric string or tag', () => {
    const ds = given(created, v1, v2, tagged).state();
    expect([resolveDatasetVersion(ds, 2), resolveDatasetVersion(ds, '1'), resolveDatasetVersion(ds, 'gold')]).toEqual([2, 1, 1]);
    expect(() => resolveDatasetVersion(ds, 'silver')).toThrow(NotFound);
    expect(() => resolveDatasetVersion(ds, 9)).toThrow(NotFound);
  });
  it('deprecates with a reason, once', () => {
    const deprecate: DatasetCommand = { type: 'DeprecateDatasetVersion', data: { name: 'images', version: 1, reason: 'labels wrong', at: 5 } };
    const ev = given(created, v1).when(deprecate)[0]!;
    expect(ev).toEqual({ type: 'DatasetVersionDeprecated', data: { name: 'images', version: 1, reason: 'labels wrong', at: 5 } });
    expect(given(created, v1, ev).when(deprecate)).toEqual([]);
    expect(given(created, v1, ev).state().versions[1]).toEqual({ manifestSha256: 'a'.repeat(64), deprecated: true });
  });
  it('requires a reason to deprecate', () =>
    expect(() => given(created, v1).when({ type: 'DeprecateDatasetVersion', data: { name: 'images', version: 1, reason: ' ', at: 5 } })).toThrow(
      ValidationFailed,
    ));
});
