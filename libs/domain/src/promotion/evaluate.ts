import { ROLES, type Role } from '../users/roles.js';
import { compare, metricRefs, parseMetricRule, valueOf, type MetricValues } from './expression.js';
import { describeApproval, describeRequiredInput, type GateConfig, type RequiredInput } from './gates.js';

/** A dataset version the candidate's run declared as an input. */
export interface RunInputFact {
  datasetName: string;
  versionId: string;
  versionNumber: number;
  role: string;
}

export interface ApprovalFact {
  username: string;
  /** The approver's role when approving. */
  role: Role;
  target: string;
}

/** Everything a gate decision depends on; evaluation is a function of these alone. */
export interface GateFacts {
  gates: GateConfig | null;
  candidate: { version: number; metrics: MetricValues; inputs: readonly RunInputFact[] };
  /** The version holding the target now; null when none does. */
  holder: { version: number; metrics: MetricValues } | null;
  approvals: readonly ApprovalFact[];
}

export type RuleKind = 'metric' | 'lineage' | 'approval';

export interface RuleCheck {
  kind: RuleKind;
  rule: string;
  passed: boolean;
  /** What was compared, in words: "auc 0.93 >= 0.9". */
  message: string;
  /** The two sides of a metric comparison, or approvals counted and required. */
  left: number | null;
  right: number | null;
}

export interface GateEvaluation {
  /** 0 when the target has no gates. */
  gatesVersion: number;
  holderVersion: number | null;
  passed: boolean;
  checks: RuleCheck[];
}

const fmt = (n: number) => (Number.isNaN(n) ? 'NaN' : String(Number.isInteger(n) ? n : Number(n.toPrecision(12))));

function metricCheck(source: string, facts: GateFacts): RuleCheck {
  const rule = parseMetricRule(source);
  const refs = [...metricRefs(rule.left), ...metricRefs(rule.right)];
  const fail = (message: string): RuleCheck => ({ kind: 'metric', rule: source, passed: false, message, left: null, right: null });
  const missing = refs.find((r) => r.of === 'candidate' && !(r.key in facts.candidate.metrics));
  if (missing) return fail(`version ${facts.candidate.version}'s run has no metric "${missing.key}"`);
  if (refs.some((r) => r.of === 'champion')) {
    if (!facts.holder)
      return { kind: 'metric', rule: source, passed: true, message: 'no version holds the target yet, so there is no champion to compare with', left: null, right: null };
    const holderMissing = refs.find((r) => r.of === 'champion' && !(r.key in facts.holder!.metrics));
    if (holderMissing) return fail(`the champion (version ${facts.holder.version})'s run has no metric "${holderMissing.key}"`);
  }
  const champion = facts.holder?.metrics ?? {};
  const left = valueOf(rule.left, facts.candidate.metrics, champion);
  const right = valueOf(rule.right, facts.candidate.metrics, champion);
  const passed = compare(left, rule.op, right);
  return { kind: 'metric', rule: source, passed, message: `${fmt(left)} ${rule.op} ${fmt(right)}${passed ? '' : ' is false'}`, left, right };
}

function lineageCheck(req: RequiredInput, inputs: readonly RunInputFact[]): RuleCheck {
  const rule = describeRequiredInput(req);
  const ofDataset = inputs.filter((i) => i.datasetName === req.dataset);
  const match = ofDataset.find((i) => (req.version === null || i.versionNumber === req.version) && (req.role === null || i.role === req.role));
  if (match)
    return { kind: 'lineage', rule, passed: true, message: `declared ${match.datasetName} v${match.versionNumber} as ${match.role}`, left: null, right: null };
  const declared = ofDataset.map((i) => `v${i.versionNumber} as ${i.role}`).join(', ');
  return {
    kind: 'lineage',
    rule,
    passed: false,
    message: declared ? `the run declared ${req.dataset} only as ${declared}` : `the run declared no input of dataset ${req.dataset}`,
    left: null,
    right: null,
  };
}

/** Pure: the same facts always give the same verdict, so a refusal can be explained later. */
export function evaluateGates(facts: GateFacts): GateEvaluation {
  const gates = facts.gates;
  const checks: RuleCheck[] = [];
  if (gates) {
    for (const source of gates.metricRules) checks.push(metricCheck(source, facts));
    for (const req of gates.requiredInputs) checks.push(lineageCheck(req, facts.candidate.inputs));
    if (gates.approval) {
      const { count, minRole } = gates.approval;
      const qualified = new Set(
        facts.approvals
          .filter((a) => a.target === gates.target && ROLES.indexOf(a.role) >= ROLES.indexOf(minRole))
          .map((a) => a.username),
      );
      const others = new Set(facts.approvals.filter((a) => a.target === gates.target).map((a) => a.username)).size - qualified.size;
      checks.push({
        kind: 'approval',
        rule: describeApproval(gates.approval),
        passed: qualified.size >= count,
        message: `${qualified.size} of ${count} approval${count === 1 ? '' : 's'}${qualified.size > 0 ? ` (${[...qualified].sort().join(', ')})` : ''}${others > 0 ? `; ${others} by a lower role not counted` : ''}`,
        left: qualified.size,
        right: count,
      });
    }
  }
  return { gatesVersion: gates?.version ?? 0, holderVersion: facts.holder?.version ?? null, passed: checks.every((c) => c.passed), checks };
}
