import type { Transport } from './transport.js';

export type GateRuleKind = 'METRIC' | 'LINEAGE' | 'APPROVAL';
export type ApproverRole = 'MEMBER' | 'MAINTAINER' | 'ADMIN';

export interface RuleCheck {
  kind: GateRuleKind;
  rule: string;
  passed: boolean;
  message: string;
  left: number | null;
  right: number | null;
}

export interface PromotionCheck {
  model: string;
  version: number;
  target: string;
  gatesVersion: number;
  holderVersion: number | null;
  passed: boolean;
  checks: RuleCheck[];
}

export interface RequiredInput {
  dataset: string;
  version?: number | null;
  role?: 'train' | 'validation' | 'test' | null;
}

export interface PromotionGates {
  model: string;
  target: string;
  version: number;
  metricRules: string[];
  requiredInputs: RequiredInput[];
  approval: { count: number; minRole: string } | null;
  setAt: number;
  setBy: string;
}

export interface PromotionDecision {
  model: string;
  version: number;
  target: string;
  passed: boolean;
  actor: string;
  gatesVersion: number;
  holderVersion: number | null;
  checks: RuleCheck[];
  at: number;
}

export interface SetGatesInput {
  metricRules?: string[];
  requiredInputs?: RequiredInput[];
  /** Approvals needed; 0 or absent: none. */
  approvals?: number;
  approverRole?: ApproverRole;
}

const CHECK = 'kind rule passed message left right';
const GATES = 'model target version metricRules requiredInputs { dataset version role } approval { count minRole } setAt setBy';

/** Promotion gates and approvals; promoting itself is `models.setAlias` / `models.transitionStage`. */
export interface PromotionApi {
  setGates(model: string, target: string, input: SetGatesInput): Promise<PromotionGates>;
  gates(model: string, target: string): Promise<PromotionGates | null>;
  gateHistory(model: string, target: string): Promise<PromotionGates[]>;
  /** A dry run: every rule with pass/fail and the values compared. */
  check(model: string, version: number, target: string): Promise<PromotionCheck>;
  approve(model: string, version: number, target: string, comment?: string): Promise<void>;
  refusals(model: string): Promise<PromotionDecision[]>;
}

export function promotionApi(t: Transport): PromotionApi {
  const write = async <T>(query: string, variables: Record<string, unknown>) =>
    Object.values(await t.graphql<Record<string, T>>(query, variables, { retry: true, idempotencyKey: crypto.randomUUID() }))[0]!;
  const read = async <T>(query: string, variables: Record<string, unknown>) =>
    Object.values(await t.graphql<Record<string, T>>(query, variables, { retry: true }))[0]!;
  return {
    setGates: (model, target, input) =>
      write(
        `mutation($m: String!, $t: String!, $r: [String!], $i: [RequiredInputInput!], $n: Int, $role: Role) {
          setPromotionGates(model: $m, target: $t, metricRules: $r, requiredInputs: $i, approvals: $n, approverRole: $role) { ${GATES} } }`,
        { m: model, t: target, r: input.metricRules ?? [], i: input.requiredInputs ?? [], n: input.approvals ?? null, role: input.approverRole ?? null },
      ),
    gates: (model, target) => read(`query($m: String!, $t: String!) { promotionGates(model: $m, target: $t) { ${GATES} } }`, { m: model, t: target }),
    gateHistory: (model, target) =>
      read(`query($m: String!, $t: String!) { promotionGateHistory(model: $m, target: $t) { ${GATES} } }`, { m: model, t: target }),
    check: (model, version, target) =>
      read(
        `query($m: String!, $v: Int!, $t: String!) { promotionChecks(model: $m, version: $v, target: $t) { model version target gatesVersion holderVersion passed checks { ${CHECK} } } }`,
        { m: model, v: version, t: target },
      ),
    approve: async (model, version, target, comment) => {
      await write(`mutation($m: String!, $v: Int!, $t: String!, $c: String) { approveModelVersion(model: $m, version: $v, target: $t, comment: $c) { version } }`, {
        m: model,
        v: version,
        t: target,
        c: comment ?? null,
      });
    },
    refusals: (model) =>
      read(
        `query($m: String!) { promotionRefusals(model: $m) { model version target passed actor gatesVersion holderVersion at checks { ${CHECK} } } }`,
        { m: model },
      ),
  };
}
