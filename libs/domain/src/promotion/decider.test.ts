import { describe, expect, it } from 'vitest';
import { ConcurrencyConflict, NotFound, ValidationFailed } from '../errors.js';
import type { ModelEvent } from '../models/events.js';
import { decideModel, evolveModel, initialModel } from '../models/decider.js';
import {
  decidePromotion,
  evolvePromotion,
  initialPromotionState,
  type PromotionCommand,
  type PromotionDecisionEvent,
  type PromotionFacts,
  type PromotionMove,
} from './decider.js';

const given = (...past: PromotionDecisionEvent[]) => ({
  when: (cmd: PromotionCommand) => decidePromotion(cmd, past.reduce(evolvePromotion, initialPromotionState())),
});

const registered: ModelEvent = {
  type: 'ModelRegistered',
  data: { name: 'churn', description: '', tags: [], card: { intendedUse: '', limitations: '', trainingData: '', evaluation: '', owners: [] }, at: 1 },
};
const version = (n: number): ModelEvent => ({
  type: 'ModelVersionCreated',
  data: { name: 'churn', version: n, runId: `r${n}`, artifactPath: 'm', sha256: 'a'.repeat(64), size: 1, format: null, signature: null, description: '', at: 2 },
});
const championV1: ModelEvent = { type: 'ModelAliasSet', data: { name: 'churn', alias: 'champion', version: 1, previousVersion: null, at: 3 } };

const setGates = (rules: Partial<{ metricRules: string[]; approval: { count: number; minRole: 'member' | 'maintainer' } }>, target = 'champion'): PromotionCommand => ({
  type: 'SetPromotionGates',
  data: { name: 'churn', target, rules: { metricRules: rules.metricRules ?? [], requiredInputs: [], approval: rules.approval ?? null }, at: 5 },
});
const approve = (username: string, role: 'member' | 'maintainer', target = 'champion', v = 2): PromotionCommand => ({
  type: 'ApproveModelVersion',
  data: { name: 'churn', version: v, target, username, role, comment: 'lgtm', at: 6 },
});
const toChampion = (v: number, expectedCurrentVersion?: number | null): PromotionMove => ({
  type: 'SetModelAlias',
  data: { name: 'churn', alias: 'champion', version: v, expectedCurrentVersion, at: 7 },
});
const promote = (move: PromotionMove, facts: Partial<PromotionFacts> = {}): PromotionCommand => ({
  type: 'PromoteModelVersion',
  data: { move, actor: 'user:ann', at: 7, facts: { candidateMetrics: { auc: 0.92 }, candidateInputs: [], holder: { version: 1, metrics: { auc: 0.9 } }, ...facts } },
});

const base = [registered, version(1), version(2), championV1] as const;
const gatesV1 = given(...base).when(setGates({ metricRules: ['metrics.auc >= 0.95'] }))[0]!;

describe('promotion gates config', () => {
  it('numbers every configuration of a target', () => {
    expect(gatesV1).toMatchObject({ type: 'PromotionGatesSet', data: { target: 'champion', version: 1, metricRules: ['metrics.auc >= 0.95'] } });
    expect(given(...base, gatesV1).when(setGates({ metricRules: [] }))[0]!.data).toMatchObject({ version: 2, metricRules: [] });
    expect(given(...base, gatesV1).when(setGates({}, 'Production'))[0]!.data).toMatchObject({ target: 'Production', version: 1 });
  });
  it('refuses a rule that does not parse, a bad target, an unknown model', () => {
    expect(() => given(...base).when(setGates({ metricRules: ['metrics.auc >>'] }))).toThrow(/position 13/);
    expect(() => given(...base).when(setGates({}, 'not a target'))).toThrow(ValidationFailed);
    expect(() => given().when(setGates({}))).toThrow(NotFound);
    expect(() => given(...base).when(setGates({ approval: { count: 0, minRole: 'member' } }))).toThrow(ValidationFailed);
  });
});

describe('approvals', () => {
  it('records an approval once per user and target', () => {
    const a = given(...base).when(approve('ann', 'maintainer'))[0]!;
    expect(a).toMatchObject({ type: 'ModelVersionApproved', data: { version: 2, target: 'champion', username: 'ann', role: 'maintainer' } });
    expect(given(...base, a).when(approve('ann', 'maintainer'))).toEqual([]);
    expect(given(...base, a).when(approve('ann', 'maintainer', 'Production'))).toHaveLength(1);
  });
  it('refuses an approval of a version that does not exist', () => {
    expect(() => given(...base).when(approve('ann', 'maintainer', 'champion', 9))).toThrow(NotFound);
  });
});

describe('promoting through gates', () => {
  it('moves the alias freely when the target has no gates', () => {
    expect(given(...base).when(promote(toChampion(2)))).toEqual([
      { type: 'ModelAliasSet', data: { name: 'churn', alias: 'champion', version: 2, previousVersion: 1, at: 7 } },
    ]);
  });

  it('refuses with every failing rule, recording the gate version, and moves nothing', () => {
    const events = given(...base, gatesV1).when(promote(toChampion(2)));
    expect(events).toEqual([
      {
        type: 'ModelPromotionRefused',
        data: {
          name: 'churn',
          version: 2,
          target: 'champion',
          actor: 'user:ann',
          gatesVersion: 1,
          holderVersion: 1,
          at: 7,
          failures: [{ kind: 'metric', rule: 'metrics.auc >= 0.95', passed: false, message: '0.92 >= 0.95 is false', left: 0.92, right: 0.95 }],
        },
      },
    ]);
    const after = [...base, gatesV1, ...events].reduce(evolvePromotion, initialPromotionState());
    expect(after.model.aliases['champion']).toBe(1);
  });

  it('records which gate version a passing promotion passed, with the move', () => {
    const relaxed = given(...base, gatesV1).when(setGates({ metricRules: ['metrics.auc >= champion.metrics.auc'] }))[0]!;
    const events = given(...base, gatesV1, relaxed).when(promote(toChampion(2)));
    expect(events.map((e) => e.type)).toEqual(['ModelPromotionGatesPassed', 'ModelAliasSet']);
    expect(events[0]!.data).toMatchObject({ gatesVersion: 2, holderVersion: 1, checks: [{ passed: true, left: 0.92, right: 0.9 }] });
  });

  it('counts approvals recorded on the stream, of the right role', () => {
    const g = given(...base).when(setGates({ approval: { count: 1, minRole: 'maintainer' } }))[0]!;
    const byMember = given(...base, g).when(approve('bob', 'member'))[0]!;
    expect(given(...base, g, byMember).when(promote(toChampion(2)))[0]!.type).toBe('ModelPromotionRefused');
    const byMaintainer = given(...base, g, byMember).when(approve('ann', 'maintainer'))[0]!;
    expect(given(...base, g, byMember, byMaintainer).when(promote(toChampion(2)))[0]!.type).toBe('ModelPromotionGatesPassed');
  });

  it('gates stage transitions against the newest other version in the stage', () => {
    const g = given(...base).when(setGates({ metricRules: ['metrics.auc > champion.metrics.auc'] }, 'Production'))[0]!;
    const v1Prod: ModelEvent = { type: 'ModelVersionStageChanged', data: { name: 'churn', version: 1, fromStage: 'None', toStage: 'Production', at: 4 } };
    const move: PromotionMove = { type: 'TransitionModelVersionStage', data: { name: 'churn', version: 2, stage: 'Production', archiveExisting: true, expectedCurrentStage: undefined, at: 7 } };
    expect(given(...base, v1Prod, g).when(promote(move, { holder: { version: 1, metrics: { auc: 0.95 } } }))[0]!.data).toMatchObject({
      holderVersion: 1,
      failures: [{ left: 0.92, right: 0.95 }],
    });
    expect(given(...base, v1Prod, g).when(promote(move)).map((e) => e.type)).toEqual([
      'ModelPromotionGatesPassed',
      'ModelVersionStageChanged',
      'ModelVersionStageChanged',
    ]);
  });

  it('is a conflict when the holder changed after the facts were gathered', () => {
    expect(() => given(...base, gatesV1).when(promote(toChampion(2), { holder: null }))).toThrow(ConcurrencyConflict);
  });

  it('refuses an impossible move as such, without recording a refusal', () => {
    expect(() => given(...base, gatesV1).when(promote(toChampion(9)))).toThrow(NotFound);
    expect(() => given(...base, gatesV1).when(promote(toChampion(2, null)))).toThrow(ConcurrencyConflict);
  });

  it('does not gate a version that already holds the target', () => {
    expect(given(...base, gatesV1).when(promote(toChampion(1)))).toEqual([]);
  });

  it('leaves the registry state untouched by promotion events', () => {
    const model = [...base, gatesV1].reduce((s, e) => evolveModel(s, e as ModelEvent), initialModel());
    expect(model.aliases).toEqual({ champion: 1 });
    expect(decideModel({ type: 'DeleteModelVersion', data: { name: 'churn', version: 2, at: 8 } }, model)).toHaveLength(1);
  });
});
