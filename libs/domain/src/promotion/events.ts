import type { DomainEvent } from '../shared/decider.js';
import type { Role } from '../users/roles.js';
import type { RuleCheck } from './evaluate.js';
import type { ApprovalRequirement, RequiredInput } from './gates.js';

// Promotion events live on the model's stream (`model-<name>`), so a gate decision and the
// pointer move it allows are appended at the same revision.

export type PromotionGatesSet = DomainEvent<
  'PromotionGatesSet',
  {
    name: string;
    target: string;
    /** 1, 2, 3... per model and target. */
    version: number;
    metricRules: string[];
    requiredInputs: RequiredInput[];
    approval: ApprovalRequirement | null;
    at: number;
  }
>;
export type ModelVersionApproved = DomainEvent<
  'ModelVersionApproved',
  { name: string; version: number; target: string; username: string; role: Role; comment: string; at: number }
>;
export type ModelPromotionRefused = DomainEvent<
  'ModelPromotionRefused',
  {
    name: string;
    version: number;
    target: string;
    actor: string;
    gatesVersion: number;
    holderVersion: number | null;
    failures: RuleCheck[];
    at: number;
  }
>;
export type ModelPromotionGatesPassed = DomainEvent<
  'ModelPromotionGatesPassed',
  { name: string; version: number; target: string; gatesVersion: number; holderVersion: number | null; checks: RuleCheck[]; at: number }
>;

export type PromotionEvent = PromotionGatesSet | ModelVersionApproved | ModelPromotionRefused | ModelPromotionGatesPassed;

export const PROMOTION_EVENT_TYPES: ReadonlySet<string> = new Set<PromotionEvent['type']>([
  'PromotionGatesSet',
  'ModelVersionApproved',
  'ModelPromotionRefused',
  'ModelPromotionGatesPassed',
]);
