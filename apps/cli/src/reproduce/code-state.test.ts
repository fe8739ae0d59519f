import type { RecipeDocument } from '@chronicle/sdk';
import { describe, expect, it } from 'vitest';
import { codeMismatches, type CodeState } from './code-state.js';

const code = (over: Partial<RecipeDocument['code']> = {}): RecipeDocument['code'] => ({
  repository: 'https://example.com/x.git', commit: 'abc', branch: null, dirty: false, diff: null, diffSha256: null, source: null, entryPoint: null, workingDir: '', ...over,
});
const state = (over: Partial<CodeState> = {}): CodeState => ({ root: '/src', head: 'abc', dirty: false, diffSha256: null, ...over });

describe('checking the code a reproduction would run', () => {
  it('accepts the same commit and the same (lack of) changes', () => {
    expect(codeMismatches(code(), state(), '.')).toEqual([]);
    expect(codeMismatches(code({ dirty: true, diffSha256: 'd1' }), state({ dirty: true, diffSha256: 'd1' }), '.')).toEqual([]);
  });
  it('names a different commit, a directory outside git, and differing uncommitted changes', () => {
    expect(codeMismatches(code(), state({ head: 'def' }), '.')).toEqual(['the checkout is at def, the run used abc: git checkout abc']);
    expect(codeMismatches(code(), state({ root: null, head: null }), '/tmp/x')[0]).toMatch(/not a git checkout; clone https:\/\/example.com\/x.git/);
    expect(codeMismatches(code(), state({ dirty: true, diffSha256: 'd' }), '.')).toEqual(['the checkout has uncommitted changes; the run ran on a clean tree']);
    expect(codeMismatches(code({ dirty: true, diff: 'x', diffSha256: 'd1' }), state(), '.')[0]).toMatch(/apply the recipe/);
    expect(codeMismatches(code({ dirty: true, diffSha256: 'd1' }), state({ dirty: true, diffSha256: 'd2' }), '.')[0]).toMatch(/differ/);
  });
  it('cannot check what the run did not record', () => expect(codeMismatches(code({ commit: null }), state({ root: null }), '.')).toEqual([]));
});
