import { ValidationFailed } from '../errors.js';
import { validateAlias } from '../models/decider.js';
import { MODEL_STAGES, type ModelStage } from '../models/events.js';
import { MAX_NAME_LENGTH, validateText } from '../shared/validation.js';
import { isRole, type Role } from '../users/roles.js';
import { parseMetricRule } from './expression.js';

/**
 * Where a promotion goes: a stage when the name is one of MLflow's stages, an alias
 * otherwise. Stage names are capitalised and matched exactly, as resolveModel does.
 */
export type PromotionTarget = { kind: 'stage'; stage: ModelStage } | { kind: 'alias'; alias: string };

export function parseTarget(target: unknown): PromotionTarget {
  if (typeof target === 'string' && (MODEL_STAGES as readonly string[]).includes(target)) return { kind: 'stage', stage: target as ModelStage };
  try {
    return { kind: 'alias', alias: validateAlias(target) };
  } catch {
    throw new ValidationFailed(`a target is an alias (letters, digits, dashes, underscores) or one of the stages ${MODEL_STAGES.join(', ')}`, {
      field: 'target',
    });
  }
}

export const targetName = (t: PromotionTarget) => (t.kind === 'stage' ? t.stage : t.alias);

export const DATASET_ROLES = ['train', 'validation', 'test'] as const;
export type DatasetRole = (typeof DATASET_ROLES)[number];

/** The candidate's run must have declared this dataset as an input (optionally a version, a role). */
export interface RequiredInput {
  dataset: string;
  version: number | null;
  role: DatasetRole | null;
}

export interface ApprovalRequirement {
  count: number;
  minRole: Role;
}

/** The rules a promotion to one target must pass. Every change is a new numbered version. */
export interface GateRules {
  metricRules: string[];
  requiredInputs: RequiredInput[];
  approval: ApprovalRequirement | null;
}

export interface GateConfig extends GateRules {
  target: string;
  version: number;
  at: number;
}

const MAX_RULES = 50;

export function validateGateRules(rules: GateRules): GateRules {
  const metricRules = rules.metricRules ?? [];
  const requiredInputs = rules.requiredInputs ?? [];
  if (!Array.isArray(metricRules) || !Array.isArray(requiredInputs) || metricRules.length + requiredInputs.length > MAX_RULES)
    throw new ValidationFailed(`a gate has at most ${MAX_RULES} rules`, { field: 'rules' });
  // Parsing now keeps a rule that could never be evaluated out of the log.
  const parsed = metricRules.map((r) => parseMetricRule(typeof r === 'string' ? r.trim() : r).source);
  const inputs = requiredInputs.map((r, i): RequiredInput => {
    const dataset = validateText(`requiredInputs[${i}].dataset`, r.dataset, MAX_NAME_LENGTH);
    const version = r.version ?? null;
    if (version !== null && (!Number.isSafeInteger(version) || version < 1))
      throw new ValidationFailed(`requiredInputs[${i}].version must be a version number (1 or more)`, { field: `requiredInputs[${i}].version` });
    const role = r.role ?? null;
    if (role !== null && !(DATASET_ROLES as readonly string[]).includes(role))
      throw new ValidationFailed(`requiredInputs[${i}].role must be one of ${DATASET_ROLES.join(', ')}`, { field: `requiredInputs[${i}].role` });
    return { dataset, version, role };
  });
  let approval: ApprovalRequirement | null = null;
  if (rules.approval) {
    const { count, minRole } = rules.approval;
    if (!Number.isSafeInteger(count) || count < 1 || count > 20)
      throw new ValidationFailed('approvals must be between 1 and 20', { field: 'approvals' });
    if (!isRole(minRole) || minRole === 'viewer')
      throw new ValidationFailed('the approver role must be member, maintainer or admin', { field: 'approverRole' });
    approval = { count, minRole };
  }
  return { metricRules: parsed, requiredInputs: inputs, approval };
}

/** How a rule reads in reports and refusals. */
export function describeRequiredInput(r: RequiredInput): string {
  return `input ${r.dataset}${r.version !== null ? ` v${r.version}` : ''}${r.role !== null ? ` as ${r.role}` : ''}`;
}

export function describeApproval(a: ApprovalRequirement): string {
  return `${a.count} approval${a.count === 1 ? '' : 's'} by ${a.minRole} or above`;
}
