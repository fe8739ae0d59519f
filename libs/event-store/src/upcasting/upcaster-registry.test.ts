import { ValidationFailed, type RecordedEvent } from '@chronicle/domain';
import { describe, expect, it } from 'vitest';
import { domainUpcasterRegistry, UpcasterRegistry } from './upcaster-registry.js';

const stored = (type: string, schemaVersion: number, data: Record<string, unknown>): RecordedEvent => ({
  id: 'e1', type, schemaVersion, stream: 's-1', revision: 0, position: 1, recordedAt: 1, actor: 'user:a', correlationId: 'c', causationId: null, data, hash: 'h',
});

describe('UpcasterRegistry', () => {
  it('upcasts a v1 RunStarted (no source, no environment) to the current shape', () => {
    const v1 = stored('RunStarted', 1, { runId: 'r1', experimentId: '0', name: 'old', tags: [], parentRunId: null, startTime: 5 });
    const now = domainUpcasterRegistry.upcast(v1);
    expect(now.schemaVersion).toBe(2);
    expect(now.data).toEqual({ ...(v1.data as object), source: {}, environment: {} });
    expect(v1.data).not.toHaveProperty('source');
  });

  it('keeps what a v1 event did record, and leaves current events alone', () => {
    const v1 = stored('RunStarted', 1, { runId: 'r1', source: { gitCommit: 'abc' }, environment: { python: '3.12' } });
    expect(domainUpcasterRegistry.upcast(v1).data).toEqual(v1.data);
    const v2 = stored('RunStarted', 2, { runId: 'r2' });
    expect(domainUpcasterRegistry.upcast(v2)).toBe(v2);
    expect(domainUpcasterRegistry.currentVersion('RunStarted')).toBe(2);
    expect(domainUpcasterRegistry.currentVersion('RunParamsLogged')).toBe(1);
  });

  it('chains versions in order and refuses gaps and duplicates', () => {
    const r = new UpcasterRegistry([
      { type: 'T', fromVersion: 2, upcast: (d) => ({ ...d, trail: `${String(d['trail'])}>3` }) },
      { type: 'T', fromVersion: 1, upcast: (d) => ({ ...d, trail: `${String(d['trail'])}>2` }) },
    ]);
    expect(r.upcast(stored('T', 1, { trail: '1' }))).toMatchObject({ schemaVersion: 3, data: { trail: '1>2>3' } });
    expect(() => new UpcasterRegistry([{ type: 'T', fromVersion: 2, upcast: (d) => d }])).toThrow(ValidationFailed);
    const u = { type: 'T', fromVersion: 1, upcast: (d: Record<string, unknown>) => d };
    expect(() => new UpcasterRegistry([u, u])).toThrow(ValidationFailed);
  });
});
