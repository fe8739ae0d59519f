import { describe, expect, it } from 'vitest';
import type { ExperimentView } from '@chronicle/projections';
import { MlflowError } from '../wire.js';
import { parseExperimentFilter, searchExperiments, type ExperimentRow } from './experiment-search.js';

const row = (id: string, name: string, createdAt: number, tags: Record<string, string> = {}): ExperimentRow => ({
  experiment: { experimentId: id, name, description: '', lifecycle: 'active', createdAt, updatedAt: createdAt + 1, createdBy: 'user:ada' } satisfies ExperimentView,
  tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
});
const rows = [row('1', 'churn-a', 10, { team: 'growth' }), row('2', 'churn-b', 20, { team: 'risk' }), row('3', 'Fraud', 30, { 'a b': 'x' })];
const ids = (filter?: string, order: string[] = []) => searchExperiments(rows, filter, order).map((r) => r.experiment.experimentId);

describe('experiment search', () => {
  it('defaults to newest first', () => expect(ids()).toEqual(['3', '2', '1']));
  it('filters on name with LIKE (case-sensitive) and ILIKE', () => {
    expect(ids("name LIKE 'churn%'")).toEqual(['2', '1']);
    expect(ids("name LIKE 'fraud'")).toEqual([]);
    expect(ids("attributes.name ILIKE 'fraud'")).toEqual(['3']);
  });
  it('filters on tags, quoted keys included, and ANDs conditions', () => {
    expect(ids("tags.team = 'risk'")).toEqual(['2']);
    expect(ids("tags.`a b` = 'x'")).toEqual(['3']);
    expect(ids("tags.\"a b\" != 'y'")).toEqual(['3']);
    expect(ids("name LIKE 'churn%' AND tags.team != 'risk'")).toEqual(['1']);
  });
  it('compares times numerically', () => {
    expect(ids('creation_time >= 20')).toEqual(['3', '2']);
    expect(ids('last_update_time < 21')).toEqual(['1']);
  });
  it('orders by the given keys', () => {
    expect(ids(undefined, ['name ASC'])).toEqual(['3', '1', '2']);
    expect(ids(undefined, ['creation_time'])).toEqual(['1', '2', '3']);
  });
  it('refuses what MLflow refuses, as INVALID_PARAMETER_VALUE', () => {
    for (const bad of ["name = 'a' OR name = 'b'", 'name = 3', "creation_time = 'x'", "bogus = 'x'", "name LIKE 'unterminated", 'name', "name = 'a' AND"]) {
      const err = (() => {
        try {
          parseExperimentFilter(bad);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err, bad).toBeInstanceOf(MlflowError);
      expect((err as MlflowError).errorCode).toBe('INVALID_PARAMETER_VALUE');
    }
    expect(() => searchExperiments(rows, undefined, ['tags.team'])).toThrow(/order_by/);
  });
});
