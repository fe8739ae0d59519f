import { describe, expect, it } from 'vitest';
import { IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import type { RunLineageCommand } from './commands.js';
import { decideRunLineage, evolveRunLineage, initialRunLineage } from './decider.js';
import type { InputRole, RunLineageEvent } from './events.js';

const given = (...past: RunLineageEvent[]) => ({
  when: (cmd: RunLineageCommand) => decideRunLineage(cmd, past.reduce(evolveRunLineage, initialRunLineage())),
});
const version = (n: number, deprecated = false) => ({ datasetName: 'images', versionId: `images@${n}`, versionNumber: n, deprecated });
const declareInputs = (inputs: { n: number; role: InputRole; deprecated?: boolean }[], run: { deleted: boolean } | null = { deleted: false }): RunLineageCommand => ({
  type: 'DeclareRunInputs',
  data: { runId: 'r1', run, inputs: inputs.map((i) => ({ ...version(i.n, i.deprecated), role: i.role })), at: 7 },
});

describe('declaring run inputs', () => {
  const declared = given().when(declareInputs([{ n: 1, role: 'train' }, { n: 2, role: 'test' }]))[0]!;
  it('records each resolved version with its role', () =>
    expect(declared).toEqual({
      type: 'RunInputsDeclared',
      data: {
        runId: 'r1',
        inputs: [
          { datasetName: 'images', versionId: 'images@1', versionNumber: 1, role: 'train' },
          { datasetName: 'images', versionId: 'images@2', versionNumber: 2, role: 'test' },
        ],
        at: 7,
      },
    }));
  it('declaring the same inputs again adds nothing; a new role for the same version is new', () => {
    expect(given(declared).when(declareInputs([{ n: 1, role: 'train' }]))).toEqual([]);
    expect(given(declared).when(declareInputs([{ n: 1, role: 'validation' }]))[0]!.data).toMatchObject({
      inputs: [{ versionId: 'images@1', role: 'validation' }],
    });
  });
  it('refuses an unknown role, an empty list, a missing or deleted run', () => {
    expect(() => given().when(declareInputs([{ n: 1, role: 'eval' as InputRole }]))).toThrow(ValidationFailed);
    expect(() => given().when(declareInputs([]))).toThrow(ValidationFailed);
    expect(() => given().when(declareInputs([{ n: 1, role: 'train' }], null))).toThrow(NotFound);
    expect(() => given().when(declareInputs([{ n: 1, role: 'train' }], { deleted: true }))).toThrow(IllegalTransition);
  });
  it('refuses a deprecated version as a new input', () =>
    expect(() => given().when(declareInputs([{ n: 1, role: 'train', deprecated: true }]))).toThrow(/deprecated/));
});

describe('declaring run outputs', () => {
  const outputs = (...ns: number[]): RunLineageCommand => ({
    type: 'DeclareRunOutputs',
    data: { runId: 'r1', run: { deleted: false }, outputs: ns.map((n) => version(n)), at: 8 },
  });
  it('records outputs once each', () => {
    const ev = given().when(outputs(3, 3))[0]!;
    expect(ev.data).toEqual({ runId: 'r1', outputs: [{ datasetName: 'images', versionId: 'images@3', versionNumber: 3 }], at: 8 });
    expect(given(ev).when(outputs(3))).toEqual([]);
  });
});
