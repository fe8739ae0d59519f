import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { eventStoreContract } from '../contract/event-store.contract.js';
import { appendToStream } from '../port.js';
import { createSqliteEventStore } from './sqlite-event-store.js';

const dir = mkdtempSync(join(tmpdir(), 'chronicle-es-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

eventStoreContract('sqlite', async () => createSqliteEventStore({ path: join(dir, `store-${n++}.db`) }));

it('keeps events across a close and reopen of the file', async () => {
  const path = join(dir, 'durable.db');
  const store = createSqliteEventStore({ path });
  await appendToStream(store, 'run-1', [{ type: 'A', data: { x: 1 } }], { actor: 'user:a', expectedRevision: 'no_stream' });
  await store.close();
  const reopened = createSqliteEventStore({ path });
  expect((await reopened.readStream('run-1')).events[0]?.data).toEqual({ x: 1 });
  expect(reopened.db.pragma('journal_mode', { simple: true })).toBe('wal');
  await reopened.close();
});
