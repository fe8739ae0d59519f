import type { RecordedEvent, TokenEvent, UserEvent } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';

export const usersProjection: ProjectionDefinition = {
  name: 'users.v1',
  tables: ['rm_users', 'rm_tokens'],
  open(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS rm_users (
        username TEXT PRIMARY KEY, role TEXT NOT NULL, created_at INTEGER NOT NULL, created_by TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_tokens (
        token_id TEXT PRIMARY KEY, username TEXT NOT NULL, name TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE,
        issued_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER, issued_by TEXT NOT NULL
      ) WITHOUT ROWID;`);
    const insertUser = db.prepare('INSERT INTO rm_users (username, role, created_at, created_by) VALUES (?, ?, ?, ?)');
    const setRole = db.prepare('UPDATE rm_users SET role = ? WHERE username = ?');
    const insertToken = db.prepare(
      'INSERT INTO rm_tokens (token_id, username, name, secret_hash, issued_at, expires_at, revoked_at, issued_by) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)',
    );
    const revoke = db.prepare('UPDATE rm_tokens SET revoked_at = ? WHERE token_id = ?');
    return {
      apply(e: RecordedEvent) {
        const ev = e as unknown as UserEvent | TokenEvent;
        switch (ev.type) {
          case 'UserCreated':
            insertUser.run(ev.data.username, ev.data.role, ev.data.at, e.actor);
            return;
          case 'UserRoleChanged':
            setRole.run(ev.data.role, ev.data.username);
            return;
          case 'TokenIssued': {
            const d = ev.data;
            insertToken.run(d.tokenId, d.username, d.name, d.secretHash, d.issuedAt, d.expiresAt, e.actor);
            return;
          }
          case 'TokenRevoked':
            revoke.run(ev.data.at, ev.data.tokenId);
            return;
          default:
            return;
        }
      },
    };
  },
};
