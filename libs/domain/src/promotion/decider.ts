import { assertNever, ConcurrencyConflict, NotFound } from '../errors.js';
import { decideModel, evolveModel, initialModel, type RegisteredModel } from '../models/decider.js';
import type { SetModelAlias, TransitionModelVersionStage } from '../models/commands.js';
import type { ModelEvent } from '../models/events.js';
import type { Decider } from '../shared/decider.js';
import { validateText } from '../shared/validation.js';
import type { Role } from '../users/roles.js';
import { evaluateGates, type ApprovalFact, type RuleCheck, type RunInputFact } from './evaluate.js';
import type { MetricValues } from './expression.js';
import { parseTarget, targetName, validateGateRules, type GateConfig, type GateRules, type PromotionTarget } from './gates.js';
import { PROMOTION_EVENT_TYPES, type PromotionEvent } from './events.js';

/** The model as promotions see it: the registry state plus gates and approvals. */
export interface PromotionState {
  model: RegisteredModel;
  runOf: Record<number, string>;
  gates: Record<string, GateConfig>;
  approvals: Record<number, ApprovalFact[]>;
}

export const initialPromotionState = (): PromotionState => ({ model: initialModel(), runOf: {}, gates: {}, approvals: {} });

export type PromotionMove = SetModelAlias | TransitionModelVersionStage;

/** Facts from outside the model's stream, gathered before deciding. */
export interface PromotionFacts {
  candidateMetrics: MetricValues;
  candidateInputs: RunInputFact[];
  /** The holder the facts were gathered for; a different holder at decision time is a conflict. */
  holder: { version: number; metrics: MetricValues } | null;
}

export type SetPromotionGates = { type: 'SetPromotionGates'; data: { name: string; target: string; rules: GateRules; at: number } };
export type ApproveModelVersion = {
  type: 'ApproveModelVersion';
  data: { name: string; version: number; target: string; username: string; role: Role; comment: string; at: number };
};
export type PromoteModelVersion = { type: 'PromoteModelVersion'; data: { move: PromotionMove; facts: PromotionFacts; actor: string; at: number } };
export type PromotionCommand = SetPromotionGates | ApproveModelVersion | PromoteModelVersion;

export type PromotionDecisionEvent = PromotionEvent | ModelEvent;

export function moveTarget(move: PromotionMove): PromotionTarget {
  return move.type === 'SetModelAlias' ? parseTarget(move.data.alias) : parseTarget(move.data.stage);
}

/**
 * The version a promotion competes with. For a stage, which many versions may share, it is
 * the newest other version in it.
 */
export function holderOf(state: PromotionState, target: PromotionTarget, candidate: number): number | null {
  if (target.kind === 'alias') return state.model.aliases[target.alias] ?? null;
  let holder: number | null = null;
  for (const [n, v] of Object.entries(state.model.versions))
    if (Number(n) !== candidate && !v.deleted && v.stage === target.stage && (holder === null || Number(n) > holder)) holder = Number(n);
  return holder;
}

function requireLiveVersion(state: PromotionState, version: number): void {
  const v = state.model.versions[version];
  if (!Number.isSafeInteger(version) || !v || v.deleted)
    throw new NotFound(`model ${state.model.name} has no version ${version}`, { model: state.model.name, version });
}

function requireRegistered(state: PromotionState, name: string): void {
  if (!state.model.registered) throw new NotFound(`model ${name} does not exist`, { model: name });
}

// Event data is canonical JSON, which has no NaN or infinities.
const finiteOrNull = (n: number | null) => (n !== null && Number.isFinite(n) ? n : null);
const storable = (checks: RuleCheck[]) => checks.map((c) => ({ ...c, left: finiteOrNull(c.left), right: finiteOrNull(c.right) }));

export function alreadyHolds(state: PromotionState, target: PromotionTarget, version: number): boolean {
  return target.kind === 'alias' ? state.model.aliases[target.alias] === version : state.model.versions[version]?.stage === target.stage;
}

export function decidePromotion(cmd: PromotionCommand, state: PromotionState): PromotionDecisionEvent[] {
  switch (cmd.type) {
    case 'SetPromotionGates': {
      const d = cmd.data;
      requireRegistered(state, d.name);
      const target = targetName(parseTarget(d.target));
      const rules = validateGateRules(d.rules);
      const version = (state.gates[target]?.version ?? 0) + 1;
      return [{ type: 'PromotionGatesSet', data: { name: state.model.name, target, version, ...rules, at: d.at } }];
    }
    case 'ApproveModelVersion': {
      const d = cmd.data;
      requireRegistered(state, d.name);
      const target = targetName(parseTarget(d.target));
      requireLiveVersion(state, d.version);
      const comment = validateText('comment', d.comment, 2_000, { allowEmpty: true });
      // A second approval by the same user for the same target counts once, so it records nothing.
      if ((state.approvals[d.version] ?? []).some((a) => a.username === d.username && a.target === target)) return [];
      return [
        {
          type: 'ModelVersionApproved',
          data: { name: state.model.name, version: d.version, target, username: d.username, role: d.role, comment, at: d.at },
        },
      ];
    }
    case 'PromoteModelVersion': {
      const { move, facts, actor, at } = cmd.data;
      // An impossible move (unknown version, stale compare-and-set) is refused as such, not by a gate.
      const moveEvents = decideModel(move, state.model);
      const target = moveTarget(move);
      const version = move.data.version;
      if (moveEvents.length === 0 || alreadyHolds(state, target, version)) return moveEvents;
      const name = targetName(target);
      const holder = holderOf(state, target, version);
      if (holder !== (facts.holder?.version ?? null))
        throw new ConcurrencyConflict(`the version holding ${state.model.name} ${name} changed while its gates were checked; retry`, {
          model: state.model.name,
          target: name,
          holderChanged: true,
        });
      const gates = state.gates[name] ?? null;
      const verdict = evaluateGates({
        gates,
        candidate: { version, metrics: facts.candidateMetrics, inputs: facts.candidateInputs },
        holder: facts.holder,
        approvals: state.approvals[version] ?? [],
      });
      const common = { name: state.model.name, version, target: name, gatesVersion: verdict.gatesVersion, holderVersion: verdict.holderVersion, at };
      if (!verdict.passed)
        return [{ type: 'ModelPromotionRefused', data: { ...common, actor, failures: storable(verdict.checks.filter((c) => !c.passed)) } }];
      if (!gates) return moveEvents;
      return [{ type: 'ModelPromotionGatesPassed', data: { ...common, checks: storable(verdict.checks) } }, ...moveEvents];
    }
    default:
      return assertNever(cmd);
  }
}

export function evolvePromotion(state: PromotionState, ev: PromotionDecisionEvent): PromotionState {
  if (!PROMOTION_EVENT_TYPES.has(ev.type)) {
    const model = evolveModel(state.model, ev as ModelEvent);
    if (ev.type === 'ModelRegistered') return { ...initialPromotionState(), model };
    if (ev.type === 'ModelVersionCreated') return { ...state, model, runOf: { ...state.runOf, [ev.data.version]: ev.data.runId } };
    // A renamed model starts its new stream without gates or approvals (renaming a gated model is refused).
    if (ev.type === 'ModelRenamedFrom')
      return { ...initialPromotionState(), model, runOf: Object.fromEntries(Object.entries(ev.data.versions).map(([n, v]) => [Number(n), v.runId])) };
    return { ...state, model };
  }
  const e = ev as PromotionEvent;
  switch (e.type) {
    case 'PromotionGatesSet': {
      const { name: _n, at, target, version, metricRules, requiredInputs, approval } = e.data;
      return { ...state, gates: { ...state.gates, [target]: { target, version, metricRules, requiredInputs, approval, at } } };
    }
    case 'ModelVersionApproved': {
      const { version, username, role, target } = e.data;
      return { ...state, approvals: { ...state.approvals, [version]: [...(state.approvals[version] ?? []), { username, role, target }] } };
    }
    case 'ModelPromotionRefused':
    case 'ModelPromotionGatesPassed':
      return state;
    default:
      return assertNever(e);
  }
}

export const promotionDecider: Decider<PromotionState, PromotionCommand, PromotionDecisionEvent> = {
  decide: decidePromotion,
  evolve: evolvePromotion,
  initialState: initialPromotionState,
};
