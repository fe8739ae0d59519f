import { describe, expect, it } from 'vitest';
import { MlflowError } from '../wire.js';
import { encodePageToken, parseFilter, parseOrderBy, parseSearch } from './search.js';

describe('registry search filters', () => {
  it('parses MLflow conditions joined by AND', () => {
    expect(parseFilter("name LIKE 'churn%' AND tags.team = 'risk'", 'models')).toEqual([
      { field: 'name', op: 'LIKE', value: 'churn%' },
      { field: 'tag', key: 'team', op: '=', value: 'risk' },
    ]);
    expect(parseFilter("run_id IN ('a', 'b') AND version_number >= 2 AND source_path ILIKE \"%model\"", 'versions')).toEqual([
      { field: 'run_id', op: 'IN', values: ['a', 'b'] },
      { field: 'version', op: '>=', value: 2 },
      { field: 'source', op: 'ILIKE', value: '%model' },
    ]);
  });
  it('reads the prompt filter MLflow 3 appends, with a backquoted key', () =>
    expect(parseFilter("name = 'x' AND tag.`mlflow.prompt.is_prompt` != 'true'", 'models')[1]).toEqual({
      field: 'tag',
      key: 'mlflow.prompt.is_prompt',
      op: '!=',
      value: 'true',
    }));
  it('refuses OR, unknown fields, fields of the other entity and dangling ANDs with INVALID_PARAMETER_VALUE', () => {
    for (const [filter, kind] of [
      ["name = 'a' OR name = 'b'", 'models'],
      ["owner = 'x'", 'models'],
      ["run_id = 'x'", 'models'],
      ["name = 'a' AND", 'models'],
      ["version_number = 'x'", 'versions'],
      ['name = ', 'versions'],
    ] as const) {
      let err: unknown;
      try {
        parseFilter(filter, kind);
      } catch (e) {
        err = e;
      }
      expect(err, filter).toBeInstanceOf(MlflowError);
      expect((err as MlflowError).errorCode).toBe('INVALID_PARAMETER_VALUE');
    }
  });
});

describe('ordering and paging', () => {
  it('maps MLflow order fields and directions', () =>
    expect(parseOrderBy(['name DESC', 'last_updated_timestamp', 'version_number asc'], 'versions')).toEqual([
      { field: 'name', descending: true },
      { field: 'updated_at', descending: false },
      { field: 'version', descending: false },
    ]));
  it('round-trips page tokens and checks limits', () => {
    expect(parseSearch({ page_token: encodePageToken(40), max_results: '20' }, 'models')).toMatchObject({ offset: 40, limit: 20 });
    expect(parseSearch({}, 'versions')).toMatchObject({ offset: 0, limit: 10_000 });
    expect(() => parseSearch({ max_results: 1001 }, 'models')).toThrow(/between 1 and 1000/);
    expect(() => parseSearch({ page_token: 'nope' }, 'models')).toThrow(/page token/);
  });
});
