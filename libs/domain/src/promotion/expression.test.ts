import { describe, expect, it } from 'vitest';
import { compare, parseMetricRule, RuleSyntaxError, valueOf } from './expression.js';

const evalRule = (src: string, candidate: Record<string, number>, champion: Record<string, number> = {}) => {
  const r = parseMetricRule(src);
  return compare(valueOf(r.left, candidate, champion), r.op, valueOf(r.right, candidate, champion));
};

const positionOf = (src: string) => {
  try {
    parseMetricRule(src);
  } catch (e) {
    expect(e).toBeInstanceOf(RuleSyntaxError);
    return (e as RuleSyntaxError).details['position'];
  }
  throw new Error(`"${src}" parsed`);
};

describe('metric rule expressions', () => {
  it('reads thresholds, relative rules and arithmetic with precedence', () => {
    expect(evalRule('metrics.auc >= 0.9', { auc: 0.91 })).toBe(true);
    expect(evalRule('metrics.auc >= 0.9', { auc: 0.89 })).toBe(false);
    expect(evalRule('metrics.auc >= champion.metrics.auc - 0.005', { auc: 0.896 }, { auc: 0.9 })).toBe(true);
    expect(evalRule('metrics.auc >= champion.metrics.auc - 0.005', { auc: 0.894 }, { auc: 0.9 })).toBe(false);
    expect(evalRule('metrics.loss <= champion.metrics.loss * 1.02', { loss: 0.102 }, { loss: 0.1 })).toBe(true);
    expect(evalRule('metrics.a - 1 * 2 = 0', { a: 2 })).toBe(true);
    expect(evalRule('(metrics.a - 1) * 2 == 2', { a: 2 })).toBe(true);
    expect(evalRule('-metrics.a < .5', { a: 1 })).toBe(true);
    expect(evalRule('metrics.`val-loss` != 1e-3', { 'val-loss': 0.5 })).toBe(true);
    expect(evalRule('metrics.val.auc > 0.5', { 'val.auc': 0.7 })).toBe(true);
  });

  it('never passes a NaN metric', () => {
    expect(evalRule('metrics.auc >= 0.9', { auc: Number.NaN })).toBe(false);
    expect(evalRule('metrics.auc != 0.9', { auc: Number.NaN })).toBe(false);
  });

  it('points at the first problem', () => {
    expect(positionOf('metrics.auc >> 0.9')).toBe(13);
    expect(positionOf('metric.auc >= 0.9')).toBe(0);
    expect(positionOf('metrics.auc >= ')).toBe(15);
    expect(positionOf('metrics.auc >= (0.9')).toBe(19);
    expect(positionOf('metrics.auc >= 0.9 0.1')).toBe(19);
    expect(positionOf('metrics.auc # 1')).toBe(12);
    expect(positionOf('champion.auc > 1')).toBe(9);
    expect(positionOf('champion.metrics.auc > 1')).toBe(0);
    expect(positionOf('')).toBe(0);
    expect(() => parseMetricRule('metrics.auc >= 0.9 and x')).toThrow(/position 19: unexpected "and"/);
  });
});
