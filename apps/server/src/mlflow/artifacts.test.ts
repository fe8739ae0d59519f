import { describe, expect, it } from 'vitest';
import type { ArtifactView } from '@chronicle/projections';
import { listDirectory, parseArtifactLocation } from './artifacts.js';

const art = (path: string, size = 1): ArtifactView => ({ runId: 'r', path, sha256: 'a'.repeat(64), size, contentType: 'x', loggedAt: 0, loggedBy: 'u' });

describe('proxied artifact paths', () => {
  it('reads <experiment>/<run>/artifacts/<path>', () => {
    expect(parseArtifactLocation('0/abc/artifacts/model/w.bin')).toEqual({ runId: 'abc', path: 'model/w.bin' });
    expect(parseArtifactLocation('/0/abc/artifacts/')).toEqual({ runId: 'abc', path: '' });
  });
  it('answers null above a run root, and refuses paths that climb out', () => {
    expect(parseArtifactLocation('0')).toBeNull();
    expect(parseArtifactLocation('0/abc')).toBeNull();
    expect(parseArtifactLocation('0/abc/other/x')).toBeNull();
    expect(() => parseArtifactLocation('0/abc/artifacts/../x')).toThrow(/segments/);
  });
});

describe('directory listings', () => {
  const all = [art('a.txt', 3), art('model/w.bin', 9), art('model/sub/n.txt'), art('model/sub/m.txt')];
  it('lists files with sizes and directories once, at one level', () => {
    expect(listDirectory(all, '')).toEqual([
      { path: 'a.txt', is_dir: false, file_size: 3 },
      { path: 'model', is_dir: true },
    ]);
    expect(listDirectory(all, 'model')).toEqual([
      { path: 'sub', is_dir: true },
      { path: 'w.bin', is_dir: false, file_size: 9 },
    ]);
  });
  it('does not treat a prefix of a name as a directory', () => expect(listDirectory([art('modelx/a')], 'model')).toEqual([]));
});
