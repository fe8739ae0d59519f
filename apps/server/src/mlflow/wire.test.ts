import { describe, expect, it } from 'vitest';
import { ConcurrencyConflict, NotFound, ValidationFailed } from '@chronicle/domain';
import { decodeDouble, encodeDouble, fromChronicleError, keyValues, MlflowError, optionalInt64, runIdOf, viewTypeOf } from './wire.js';

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof MlflowError ? `${e.errorCode} ${e.status}` : String(e);
  }
  return 'no error';
};

describe('MLflow wire values', () => {
  it('writes and reads non-finite doubles as strings', () => {
    expect([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5].map(encodeDouble)).toEqual(['NaN', 'Infinity', '-Infinity', 1.5]);
    expect(decodeDouble('-Infinity', 'v')).toBe(Number.NEGATIVE_INFINITY);
    expect(decodeDouble('2.5', 'v')).toBe(2.5);
    expect(code(() => decodeDouble('abc', 'v'))).toBe('INVALID_PARAMETER_VALUE 400');
  });
  it('reads int64 as a number or its decimal text', () => {
    expect(optionalInt64({ t: '1700000000000' }, 't')).toBe(1_700_000_000_000);
    expect(optionalInt64({ t: 5 }, 't')).toBe(5);
    expect(optionalInt64({}, 't')).toBeUndefined();
    expect(code(() => optionalInt64({ t: 1.5 }, 't'))).toBe('INVALID_PARAMETER_VALUE 400');
  });
  it('takes run_id or run_uuid and names a missing one', () => {
    expect(runIdOf({ run_uuid: 'a' })).toBe('a');
    expect(runIdOf({ run_id: 'b', run_uuid: 'a' })).toBe('b');
    expect(code(() => runIdOf({}))).toBe('INVALID_PARAMETER_VALUE 400');
  });
  it('reads key-value lists and view types', () => {
    expect(keyValues({ tags: [{ key: 'a' }, { key: 'b', value: 'c' }] }, 'tags')).toEqual([{ key: 'a', value: '' }, { key: 'b', value: 'c' }]);
    expect(code(() => keyValues({ tags: [{ value: 'x' }] }, 'tags'))).toBe('INVALID_PARAMETER_VALUE 400');
    expect(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL', '3', undefined].map((v) => viewTypeOf({ v }, 'v'))).toEqual(['active', 'deleted', 'all', 'all', 'active']);
  });
  it("maps Chronicle's errors to MLflow's codes and statuses", () => {
    expect(fromChronicleError(new NotFound('x')).status).toBe(404);
    expect(fromChronicleError(new ValidationFailed('x')).errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(fromChronicleError(new ConcurrencyConflict('an experiment named "a" already exists')).errorCode).toBe('RESOURCE_ALREADY_EXISTS');
    expect(fromChronicleError(new ConcurrencyConflict('stream changed concurrently')).status).toBe(409);
  });
});
