import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainHash, createSqliteEventStore, GENESIS_HASH, openSqliteDatabase, type EventStore, type RawEvent } from '@chronicle/event-store';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateSealKey } from './seal-key.js';
import { AUDIT_SEALS_STREAM, sealLog } from './seal.js';
import { verifyLog, type IntegrityReport } from './verify-log.js';

const dir = mkdtempSync(join(tmpdir(), 'chronicle-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const metrics = (v: number) => ({ runId: 'a', series: [{ key: 'loss', steps: [0, 1], values: [v, v / 2], timestamps: [1, 2] }] });

/**
 * Positions: 1 run-a#0, 2 run-a#1, 3 run-b#0, 4 run-a#2, 5 run-b#1, [6 audit-seals#0 sealing 5,]
 * then experiment-1#0, run-a#3, run-b#2 (6..8, or 7..9 with the seal).
 */
async function writeHistory(opts: { seal?: boolean } = {}) {
  const path = join(dir, `log-${n++}.db`);
  const store = createSqliteEventStore({ path });
  const key = loadOrCreateSealKey(join(dir, `key-${n}.pem`));
  const meta = { actor: 'user:ada', correlationId: 'corr-1' };
  await store.append([{ stream: 'run-a', expectedRevision: 'no_stream', events: [
    { type: 'RunStarted', data: { runId: 'a', name: 'first' } },
    { type: 'RunParamsLogged', data: { runId: 'a', params: [{ key: 'lr', value: '0.5' }] } },
  ] }], meta);
  await store.append([{ stream: 'run-b', expectedRevision: 'no_stream', events: [{ type: 'RunStarted', data: { runId: 'b' } }] }], meta);
  await store.append([{ stream: 'run-a', expectedRevision: 1, events: [{ type: 'RunMetricsLogged', data: metrics(0.25) }] }], {
    ...meta,
    actor: 'user:bob',
  });
  await store.append([{ stream: 'run-b', expectedRevision: 0, events: [{ type: 'RunTagsSet', data: { runId: 'b', tags: [] } }] }], meta);
  if (opts.seal) await sealLog(store, key, { clock: () => 1 });
  await store.append(
    [
      { stream: 'experiment-1', expectedRevision: 'no_stream', events: [{ type: 'ExperimentCreated', data: { experimentId: '1' } }] },
      { stream: 'run-a', expectedRevision: 2, events: [{ type: 'RunFinished', data: { runId: 'a', status: 'FINISHED' } }] },
    ],
    meta,
  );
  await store.append([{ stream: 'run-b', expectedRevision: 1, events: [{ type: 'RunFinished', data: { runId: 'b', status: 'FAILED' } }] }], meta);
  await store.close();
  return { path, key };
}

/** Opens the file the way an attacker with write access would: plain SQL, no store. */
function tamper(path: string, sql: string, ...params: unknown[]) {
  const db = openSqliteDatabase(path);
  db.prepare(sql).run(...params);
  db.close();
}

async function verify(path: string, opts: Parameters<typeof verifyLog>[1] = {}): Promise<IntegrityReport> {
  const store = createSqliteEventStore({ path });
  try {
    return await verifyLog(store, opts);
  } finally {
    await store.close();
  }
}

/** What an attacker who knows the hash algorithm does after an edit: recompute the whole chain and the head table. */
function rechain(path: string) {
  const db = openSqliteDatabase(path);
  const rows = db.prepare('SELECT * FROM events ORDER BY position').all() as Record<string, unknown>[];
  const prev = new Map<string, string>();
  const setHash = db.prepare('UPDATE events SET hash = ? WHERE position = ?');
  const setHead = db.prepare('UPDATE streams SET revision = ?, hash = ? WHERE stream = ?');
  for (const r of rows) {
    const e = {
      id: r['id'] as string,
      stream: r['stream'] as string,
      revision: r['revision'] as number,
      type: r['type'] as string,
      schemaVersion: r['schema_version'] as number,
      recordedAt: r['recorded_at'] as number,
      actor: r['actor'] as string,
      correlationId: r['correlation_id'] as string,
      causationId: r['causation_id'] as string | null,
    };
    const hash = chainHash(prev.get(e.stream) ?? GENESIS_HASH, e, r['data'] as string);
    setHash.run(hash, r['position']);
    setHead.run(e.revision, hash, e.stream);
    prev.set(e.stream, hash);
  }
  db.close();
}

const located = (r: IntegrityReport) => r.firstBreak && { kind: r.firstBreak.kind, stream: r.firstBreak.stream, revision: r.firstBreak.revision };

describe('verifyLog', () => {
  it('verifies an untouched log and counts what it hashed', async () => {
    const { path } = await writeHistory({ seal: true });
    const r = await verify(path);
    expect(r).toMatchObject({ ok: true, headPosition: 9, events: 9, streams: 4, firstBreak: null, breaks: [] });
    expect(r.seals).toEqual({ verified: 1, lastSealedPosition: 5 });
    expect(r.bytesHashed).toBeGreaterThan(9 * 64);
    expect(r.ms).toBeGreaterThanOrEqual(0);
    // Batches of one event give the same verdict: nothing depends on batch boundaries.
    expect(await verify(path, { batchSize: 1 })).toMatchObject({ ok: true, events: 9, seals: { verified: 1 } });
  });

  it('locates one changed byte of data', async () => {
    const { path } = await writeHistory();
    tamper(path, "UPDATE events SET data = replace(data, '0.25', '0.26') WHERE stream = 'run-a' AND revision = 2");
    const r = await verify(path);
    expect(r.ok).toBe(false);
    expect(located(r)).toEqual({ kind: 'hash_mismatch', stream: 'run-a', revision: 2 });
    expect(r.firstBreak!.position).toBe(4);
    // Verification carries on from the stored hash: the edit is reported once, not for every successor.
    expect(r.breaks).toHaveLength(1);
  });

  it('locates one changed byte of an envelope field (the actor)', async () => {
    const { path } = await writeHistory();
    tamper(path, "UPDATE events SET actor = 'user:bod' WHERE position = 4");
    expect(located(await verify(path))).toEqual({ kind: 'hash_mismatch', stream: 'run-a', revision: 2 });
  });

  it('locates an edit whose own hash was recomputed, at the next event of the stream', async () => {
    const { path } = await writeHistory();
    const db = openSqliteDatabase(path);
    const row = db.prepare('SELECT * FROM events WHERE position = 2').get() as Record<string, unknown>;
    const prev = (db.prepare('SELECT hash FROM events WHERE position = 1').get() as { hash: string }).hash;
    const data = (row['data'] as string).replace('0.5', '0.9');
    const forged = chainHash(prev, { ...(row as unknown as RawEvent), schemaVersion: 1, recordedAt: row['recorded_at'] as number, correlationId: 'corr-1', causationId: null }, data);
    db.prepare('UPDATE events SET data = ?, hash = ? WHERE position = 2').run(data, forged);
    db.close();
    expect(located(await verify(path))).toEqual({ kind: 'hash_mismatch', stream: 'run-a', revision: 2 });
  });

  it('locates a deleted event in the middle of a stream', async () => {
    const { path } = await writeHistory();
    tamper(path, "DELETE FROM events WHERE stream = 'run-a' AND revision = 1");
    const r = await verify(path);
    expect(located(r)).toEqual({ kind: 'revision_gap', stream: 'run-a', revision: 1 });
    expect(r.firstBreak!.position).toBe(4);
    expect(r.breaks.map((b) => b.kind)).toContain('position_gap');
  });

  it('locates a deleted last event of a stream against the head table', async () => {
    const { path } = await writeHistory();
    tamper(path, "DELETE FROM events WHERE stream = 'run-a' AND revision = 3");
    const r = await verify(path);
    expect(r.breaks.find((b) => b.stream !== null)).toMatchObject({ kind: 'missing_tail', stream: 'run-a', revision: 3 });
    expect(located(r)).toEqual({ kind: 'missing_tail', stream: 'run-a', revision: 3 });
  });

  it('locates a deleted tail even at the end of the log', async () => {
    const { path } = await writeHistory();
    tamper(path, 'DELETE FROM events WHERE position = 8');
    expect(located(await verify(path))).toEqual({ kind: 'missing_tail', stream: 'run-b', revision: 2 });
  });

  it('locates two events whose data were swapped', async () => {
    const { path } = await writeHistory();
    const db = openSqliteDatabase(path);
    const [a, b] = db.prepare("SELECT position, data FROM events WHERE stream = 'run-b' AND revision IN (1, 2) ORDER BY revision").all() as { position: number; data: string }[];
    db.prepare('UPDATE events SET data = ? WHERE position = ?').run(b!.data, a!.position);
    db.prepare('UPDATE events SET data = ? WHERE position = ?').run(a!.data, b!.position);
    db.close();
    expect(located(await verify(path))).toEqual({ kind: 'hash_mismatch', stream: 'run-b', revision: 1 });
  });

  it('locates two events whose revisions were swapped', async () => {
    const { path } = await writeHistory();
    tamper(path, "UPDATE events SET revision = -1 WHERE stream = 'run-a' AND revision = 1");
    tamper(path, "UPDATE events SET revision = 1 WHERE stream = 'run-a' AND revision = 2");
    tamper(path, "UPDATE events SET revision = 2 WHERE stream = 'run-a' AND revision = -1");
    const r = await verify(path);
    expect(located(r)).toEqual({ kind: 'revision_gap', stream: 'run-a', revision: 1 });
    expect(r.firstBreak!.position).toBe(2);
  });

  it('locates an inserted event with a made-up hash', async () => {
    const { path } = await writeHistory();
    tamper(
      path,
      "INSERT INTO events (position, id, stream, revision, type, schema_version, recorded_at, actor, correlation_id, causation_id, data, hash) VALUES (10, 'forged', 'run-a', 4, 'RunRestored', 1, 5, 'user:eve', 'c', NULL, '{}', ?)",
      'f'.repeat(64),
    );
    const r = await verify(path);
    expect(located(r)).toEqual({ kind: 'hash_mismatch', stream: 'run-a', revision: 4 });
    // The head table still ends run-a at revision 3.
    expect(r.breaks.map((b) => b.kind)).toContain('unrecorded_events');
  });

  it('locates an inserted event chained correctly but missing from the head table', async () => {
    const { path } = await writeHistory();
    const db = openSqliteDatabase(path);
    const prev = (db.prepare("SELECT hash FROM streams WHERE stream = 'run-a'").get() as { hash: string }).hash;
    const e = { id: 'forged', stream: 'run-a', revision: 4, type: 'RunRestored', schemaVersion: 1, recordedAt: 5, actor: 'user:eve', correlationId: 'c', causationId: null };
    db.prepare(
      'INSERT INTO events (position, id, stream, revision, type, schema_version, recorded_at, actor, correlation_id, causation_id, data, hash) VALUES (10, ?, ?, 4, ?, 1, 5, ?, ?, NULL, ?, ?)',
    ).run(e.id, e.stream, e.type, e.actor, e.correlationId, '{}', chainHash(prev, e, '{}'));
    db.close();
    expect(located(await verify(path))).toEqual({ kind: 'unrecorded_events', stream: 'run-a', revision: 4 });
  });

  it('leaves a consistent rewrite (chain and head table recomputed) to the seals, which catch it', async () => {
    const { path, key } = await writeHistory({ seal: true });
    tamper(path, "UPDATE events SET data = replace(data, '0.5', '0.9') WHERE stream = 'run-a' AND revision = 1");
    rechain(path);
    const r = await verify(path, { trustedSealKeys: [key.publicKeyPem] });
    expect(r.ok).toBe(false);
    expect(r.breaks.map((b) => b.kind)).toEqual(['seal_mismatch']);
    expect(r.firstBreak).toMatchObject({ stream: AUDIT_SEALS_STREAM, revision: 0, position: 6 });
    expect(r.firstBreak!.reason).toMatch(/position 5/);
  });

  it('catches a seal whose head digest was edited, and a seal signed by another key', async () => {
    const { path, key } = await writeHistory({ seal: true });
    expect((await verify(path, { trustedSealKeys: [key.publicKeyPem] })).ok).toBe(true);
    const stranger = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(located(await verify(path, { trustedSealKeys: [stranger] }))).toEqual({ kind: 'seal_untrusted_key', stream: AUDIT_SEALS_STREAM, revision: 0 });
    tamper(path, `UPDATE events SET data = json_set(data, '$.digest', '${'0'.repeat(64)}') WHERE stream = '${AUDIT_SEALS_STREAM}'`);
    rechain(path);
    expect(located(await verify(path))).toEqual({ kind: 'seal_invalid', stream: AUDIT_SEALS_STREAM, revision: 0 });
  });
});

describe('sealLog', () => {
  it('seals only when something was written since the last seal', async () => {
    const { path, key } = await writeHistory();
    const store = createSqliteEventStore({ path });
    const first = await sealLog(store, key, { clock: () => 7 });
    expect(first).toMatchObject({ sealPosition: 9, seal: { position: 8, streams: 3, at: 7, algorithm: 'ed25519' } });
    expect(await sealLog(store, key)).toBeNull();
    await store.append([{ stream: 'run-c', expectedRevision: 'no_stream', events: [{ type: 'RunStarted', data: {} }] }], { actor: 'user:a' });
    expect((await sealLog(store, key))?.seal).toMatchObject({ position: 10, streams: 5 });
    expect(await verifyLog(store, { trustedSealKeys: [key.publicKeyPem] })).toMatchObject({ ok: true, seals: { verified: 2, lastSealedPosition: 10 } });
    await store.close();
  });

  it('checks a seal appended a few events after the position it sealed', async () => {
    const { path, key } = await writeHistory();
    const store = createSqliteEventStore({ path });
    // A seal whose heads were read before two more appends landed: the verifier rolls back to position 8.
    const realHeads = store.readHeads.bind(store);
    const snapshot = await realHeads();
    store.readHeads = async () => snapshot;
    await store.append([{ stream: 'run-d', expectedRevision: 'no_stream', events: [{ type: 'RunStarted', data: {} }] }], { actor: 'user:a' });
    await store.append([{ stream: 'run-a', expectedRevision: 3, events: [{ type: 'RunDeleted', data: {} }] }], { actor: 'user:a' });
    const sealed = await sealLog(store, key);
    store.readHeads = realHeads;
    expect(sealed).toMatchObject({ sealPosition: 11, seal: { position: 8 } });
    expect(await verifyLog(store)).toMatchObject({ ok: true, seals: { verified: 1, lastSealedPosition: 8 } });
    await store.close();
  });

  it('hashes chain links to the stored hashes, causation ids and non-ASCII text included', async () => {
    const path = join(dir, `log-${n++}.db`);
    const store = createSqliteEventStore({ path });
    await store.append([{ stream: 'run-ü', expectedRevision: 'no_stream', events: [{ type: 'RunStarted', data: { name: 'naïve 🚀 "q"\\' } }] }], {
      actor: 'user:zoë',
      correlationId: 'c-✓',
      causationId: 'cause-1',
    });
    const links = await store.readAllChainLinks!({ after: 0, limit: 10 });
    const [raw] = await store.readAllRaw({ after: 0, limit: 1 });
    expect(links).toHaveLength(1);
    expect(createHash('sha256').update(GENESIS_HASH).update(links[0]![5]!).digest('hex')).toBe(chainHash(GENESIS_HASH, raw!, raw!.dataText));
    expect((await verifyLog(store)).ok).toBe(true);
    await store.close();
  });

  it('hashes a stored value SQLite would print differently from JS as chainHash does', async () => {
    const { path } = await writeHistory();
    // 1e21 prints as 1e+21 in JS and 1.0e+21 in SQLite: a legitimately rechained row must still verify.
    tamper(path, 'UPDATE events SET recorded_at = 1e21 WHERE position = 8');
    rechain(path);
    const r = await verify(path);
    expect(r).toMatchObject({ ok: true, events: 8 });
    tamper(path, "UPDATE events SET actor = 'user:eve' WHERE position = 8");
    expect(located(await verify(path))).toEqual({ kind: 'hash_mismatch', stream: 'run-b', revision: 2 });
  });

  it('gives the same verdicts from a store without chain links', async () => {
    const { path } = await writeHistory({ seal: true });
    tamper(path, "UPDATE events SET data = replace(data, '0.25', '0.26') WHERE stream = 'run-a' AND revision = 2");
    const store = createSqliteEventStore({ path });
    const plain: EventStore = { ...store, readAllChainLinks: undefined };
    const [withLinks, without] = [await verifyLog(store), await verifyLog(plain)];
    await store.close();
    expect(without.breaks).toEqual(withLinks.breaks);
    expect({ ...without, ms: 0 }).toEqual({ ...withLinks, ms: 0 });
  });

  it('gives the same verdicts, in log order, when worker threads hash the chain links', async () => {
    const tampers = [
      "UPDATE events SET data = replace(data, '0.25', '0.26') WHERE stream = 'run-a' AND revision = 2",
      "DELETE FROM events WHERE stream = 'run-b' AND revision = 1",
      "UPDATE events SET actor = 'user:eve' WHERE position IN (1, 5)",
    ];
    for (const sql of tampers) {
      const { path } = await writeHistory({ seal: true });
      tamper(path, sql);
      // Batches of 2 events: hash results of earlier batches arrive while later ones are read.
      const [inline, threaded] = [await verify(path, { hashThreads: 0, batchSize: 2 }), await verify(path, { hashThreads: 2, batchSize: 2 })];
      expect(threaded.ok).toBe(false);
      expect({ ...threaded, ms: 0 }).toEqual({ ...inline, ms: 0 });
      const positions = threaded.breaks.map((b) => b.position ?? Number.POSITIVE_INFINITY);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
    }
  });

  it('creates the seal key once, readable by its owner only', () => {
    const path = join(dir, 'once.pem');
    const a = loadOrCreateSealKey(path);
    const b = loadOrCreateSealKey(path);
    expect(b.publicKeyPem).toBe(a.publicKeyPem);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
