import { describe, expect, it } from 'vitest';
import { evaluateGates, type GateFacts } from './evaluate.js';
import type { GateConfig } from './gates.js';

const gates = (over: Partial<GateConfig>): GateConfig => ({
  target: 'champion',
  version: 3,
  metricRules: [],
  requiredInputs: [],
  approval: null,
  at: 0,
  ...over,
});

const facts = (over: Partial<GateFacts>): GateFacts => ({
  gates: null,
  candidate: { version: 2, metrics: { auc: 0.92, loss: 0.1 }, inputs: [] },
  holder: null,
  approvals: [],
  ...over,
});

describe('evaluateGates', () => {
  it('passes when the target has no gates', () => {
    expect(evaluateGates(facts({}))).toEqual({ gatesVersion: 0, holderVersion: null, passed: true, checks: [] });
  });

  it('checks a metric threshold with both sides', () => {
    const pass = evaluateGates(facts({ gates: gates({ metricRules: ['metrics.auc >= 0.9'] }) }));
    expect(pass).toMatchObject({ gatesVersion: 3, passed: true, checks: [{ kind: 'metric', passed: true, left: 0.92, right: 0.9, message: '0.92 >= 0.9' }] });
    const fail = evaluateGates(facts({ gates: gates({ metricRules: ['metrics.auc >= 0.95'] }) }));
    expect(fail.passed).toBe(false);
    expect(fail.checks[0]).toMatchObject({ passed: false, left: 0.92, right: 0.95, message: '0.92 >= 0.95 is false' });
  });

  it('fails a rule on a metric the candidate never logged', () => {
    const r = evaluateGates(facts({ gates: gates({ metricRules: ['metrics.f1 >= 0.5'] }) }));
    expect(r.checks[0]).toMatchObject({ passed: false, message: `version 2's run has no metric "f1"`, left: null });
  });

  it('compares with the champion, and passes (saying so) when there is none', () => {
    const rule = 'metrics.auc >= champion.metrics.auc - 0.005';
    expect(evaluateGates(facts({ gates: gates({ metricRules: [rule] }), holder: { version: 1, metrics: { auc: 0.924 } } })).checks[0]).toMatchObject({
      passed: true,
      left: 0.92,
      right: 0.919,
    });
    const worse = evaluateGates(facts({ gates: gates({ metricRules: [rule] }), holder: { version: 1, metrics: { auc: 0.93 } } }));
    expect(worse).toMatchObject({ passed: false, holderVersion: 1, checks: [{ passed: false, left: 0.92, right: 0.925 }] });
    const none = evaluateGates(facts({ gates: gates({ metricRules: [rule] }) }));
    expect(none.passed).toBe(true);
    expect(none.checks[0]!.message).toMatch(/no version holds the target/);
    const holderMissing = evaluateGates(facts({ gates: gates({ metricRules: [rule] }), holder: { version: 1, metrics: {} } }));
    expect(holderMissing.checks[0]).toMatchObject({ passed: false, message: `the champion (version 1)'s run has no metric "auc"` });
  });

  it('requires declared lineage, optionally by version and role', () => {
    const inputs = [{ datasetName: 'churn-data', versionId: 'v-2', versionNumber: 2, role: 'train' }];
    const check = (req: GateConfig['requiredInputs'][number]) =>
      evaluateGates(facts({ gates: gates({ requiredInputs: [req] }), candidate: { version: 2, metrics: {}, inputs } })).checks[0]!;
    expect(check({ dataset: 'churn-data', version: null, role: null })).toMatchObject({ passed: true, rule: 'input churn-data' });
    expect(check({ dataset: 'churn-data', version: 2, role: 'train' })).toMatchObject({ passed: true });
    expect(check({ dataset: 'churn-data', version: 3, role: null })).toMatchObject({ passed: false, message: 'the run declared churn-data only as v2 as train' });
    expect(check({ dataset: 'churn-data', version: null, role: 'test' })).toMatchObject({ passed: false });
    expect(check({ dataset: 'other', version: null, role: null })).toMatchObject({ passed: false, message: 'the run declared no input of dataset other' });
  });

  it('counts approvals once per user, only by the role asked for and only for this target', () => {
    const g = gates({ approval: { count: 2, minRole: 'maintainer' } });
    const r = evaluateGates(
      facts({
        gates: g,
        approvals: [
          { username: 'ann', role: 'maintainer', target: 'champion' },
          { username: 'ann', role: 'maintainer', target: 'champion' },
          { username: 'bob', role: 'member', target: 'champion' },
          { username: 'cy', role: 'admin', target: 'challenger' },
        ],
      }),
    );
    expect(r.checks[0]).toMatchObject({ kind: 'approval', passed: false, left: 1, right: 2, message: '1 of 2 approvals (ann); 1 by a lower role not counted' });
    const ok = evaluateGates(
      facts({ gates: g, approvals: [{ username: 'ann', role: 'maintainer', target: 'champion' }, { username: 'cy', role: 'admin', target: 'champion' }] }),
    );
    expect(ok.passed).toBe(true);
  });

  it('lists every failing rule', () => {
    const r = evaluateGates(
      facts({
        gates: gates({
          metricRules: ['metrics.auc >= 0.99', 'metrics.loss < 1'],
          requiredInputs: [{ dataset: 'd', version: null, role: null }],
          approval: { count: 1, minRole: 'member' },
        }),
      }),
    );
    expect(r.checks.map((c) => c.passed)).toEqual([false, true, false, false]);
  });
});
