import { describe, expect, it } from 'vitest';
import { checkRunId, parseSource, runArtifactUri } from './source.js';

describe('model version sources', () => {
  it('reads run artifacts from runs:/ and proxied artifact URIs alike', () => {
    expect(parseSource('runs:/abc/model')).toEqual({ kind: 'run', ref: { runId: 'abc', artifactPath: 'model' } });
    expect(parseSource('mlflow-artifacts:/3/abc/artifacts/model/')).toEqual({ kind: 'run', ref: { runId: 'abc', artifactPath: 'model' } });
    expect(parseSource('mlflow-artifacts://host:5000/3/abc/artifacts/a%20b')).toEqual({ kind: 'run', ref: { runId: 'abc', artifactPath: 'a b' } });
    expect(parseSource(runArtifactUri('3', 'abc', ''))).toEqual({ kind: 'run', ref: { runId: 'abc', artifactPath: '' } });
  });
  it('reads logged models and registered versions', () => {
    const id = `m-${'0'.repeat(32)}`;
    expect(parseSource(`models:/${id}`)).toEqual({ kind: 'logged-model', modelId: id });
    expect(parseSource('models:/churn/3')).toEqual({ kind: 'registered', name: 'churn', version: '3', alias: null });
    expect(parseSource('models:/churn@champion')).toEqual({ kind: 'registered', name: 'churn', version: null, alias: 'champion' });
  });
  it('refuses locations Chronicle does not hold, and a run_id that is not the source run', () => {
    expect(() => parseSource('s3://bucket/model')).toThrow(/Unsupported model version source/);
    expect(() => parseSource('/tmp/model')).toThrow(/Unsupported/);
    expect(() => checkRunId({ runId: 'abc', artifactPath: 'm' }, 'other', 'runs:/abc/m')).toThrow(/not of run_id other/);
  });
});
