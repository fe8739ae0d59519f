import type { ApprovalRequirement, RequiredInput, Role, RuleCheck } from '@chronicle/domain';
import type { SqliteDatabase } from '@chronicle/event-store';

export interface PromotionGatesView {
  model: string;
  target: string;
  version: number;
  metricRules: string[];
  requiredInputs: RequiredInput[];
  approval: ApprovalRequirement | null;
  setAt: number;
  setBy: string;
}

export interface ApprovalView {
  model: string;
  version: number;
  target: string;
  username: string;
  role: Role;
  comment: string;
  at: number;
}

/** A gate decision: `checks` are the failing rules of a refusal, or every rule of a pass. */
export interface PromotionDecisionView {
  model: string;
  version: number;
  target: string;
  passed: boolean;
  actor: string;
  gatesVersion: number;
  holderVersion: number | null;
  checks: RuleCheck[];
  at: number;
  position: number;
}

interface GatesRow {
  name: string;
  target: string;
  version: number;
  config: string;
  set_at: number;
  set_by: string;
}
interface ApprovalRow {
  name: string;
  version: number;
  target: string;
  username: string;
  role: Role;
  comment: string;
  at: number;
}
interface DecisionRow {
  position: number;
  name: string;
  version: number;
  target: string;
  passed: number;
  actor: string;
  gates_version: number;
  holder_version: number | null;
  checks: string;
  at: number;
}

const gatesView = (r: GatesRow): PromotionGatesView => ({
  model: r.name,
  target: r.target,
  version: r.version,
  ...(JSON.parse(r.config) as Pick<PromotionGatesView, 'metricRules' | 'requiredInputs' | 'approval'>),
  setAt: r.set_at,
  setBy: r.set_by,
});
const approvalView = (r: ApprovalRow): ApprovalView => ({
  model: r.name,
  version: r.version,
  target: r.target,
  username: r.username,
  role: r.role,
  comment: r.comment,
  at: r.at,
});
const decisionView = (r: DecisionRow): PromotionDecisionView => ({
  model: r.name,
  version: r.version,
  target: r.target,
  passed: r.passed === 1,
  actor: r.actor,
  gatesVersion: r.gates_version,
  holderVersion: r.holder_version,
  checks: JSON.parse(r.checks) as RuleCheck[],
  at: r.at,
  position: r.position,
});

export function promotionQueries(db: SqliteDatabase) {
  const current = db.prepare<[string, string], GatesRow>('SELECT * FROM rm_promotion_gates WHERE name = ? AND target = ? ORDER BY version DESC LIMIT 1');
  const history = db.prepare<[string, string], GatesRow>('SELECT * FROM rm_promotion_gates WHERE name = ? AND target = ? ORDER BY version DESC');
  const approvals = db.prepare<[string, number], ApprovalRow>('SELECT * FROM rm_model_approvals WHERE name = ? AND version = ? ORDER BY position');
  const decisions = db.prepare<[string, number, number], DecisionRow>(
    'SELECT * FROM rm_promotion_decisions WHERE name = ? AND passed = ? ORDER BY position DESC LIMIT ?',
  );
  return {
    /** The configuration in force for a target; null when it has none. */
    gates: (model: string, target: string): PromotionGatesView | null => {
      const r = current.get(model, target);
      return r ? gatesView(r) : null;
    },
    /** Every configuration a target has had, newest first. */
    gateHistory: (model: string, target: string): PromotionGatesView[] => history.all(model, target).map(gatesView),
    approvals: (model: string, version: number): ApprovalView[] => approvals.all(model, version).map(approvalView),
    /** Refused promotions, newest first. */
    refusals: (model: string, limit = 100): PromotionDecisionView[] => decisions.all(model, 0, limit).map(decisionView),
    passes: (model: string, limit = 100): PromotionDecisionView[] => decisions.all(model, 1, limit).map(decisionView),
  };
}
