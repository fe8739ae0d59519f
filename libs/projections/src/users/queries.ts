import type { Role } from '@chronicle/domain';
import type { SqliteDatabase } from '@chronicle/event-store';

export interface UserView {
  username: string;
  role: Role;
  createdAt: number;
}

export interface TokenView {
  tokenId: string;
  username: string;
  name: string;
  issuedAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  issuedBy: string;
}

interface TokenRow {
  token_id: string;
  username: string;
  name: string;
  issued_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  issued_by: string;
}

const toToken = (r: TokenRow): TokenView => ({
  tokenId: r.token_id,
  username: r.username,
  name: r.name,
  issuedAt: r.issued_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  issuedBy: r.issued_by,
});

export function userQueries(db: SqliteDatabase) {
  const user = db.prepare<[string], { username: string; role: Role; created_at: number }>(
    'SELECT username, role, created_at FROM rm_users WHERE username = ?',
  );
  const users = db.prepare<[], { username: string; role: Role; created_at: number }>(
    'SELECT username, role, created_at FROM rm_users ORDER BY username',
  );
  const tokenByHash = db.prepare<[string], TokenRow>('SELECT * FROM rm_tokens WHERE secret_hash = ?');
  const tokenById = db.prepare<[string], TokenRow>('SELECT * FROM rm_tokens WHERE token_id = ?');
  const tokens = db.prepare<[string | null, string | null], TokenRow>(
    'SELECT * FROM rm_tokens WHERE (? IS NULL OR username = ?) ORDER BY issued_at, token_id',
  );
  const toUser = (r: { username: string; role: Role; created_at: number }): UserView => ({
    username: r.username,
    role: r.role,
    createdAt: r.created_at,
  });
  return {
    get: (username: string) => {
      const r = user.get(username);
      return r ? toUser(r) : null;
    },
    list: () => users.all().map(toUser),
    tokenBySecretHash: (hash: string) => {
      const r = tokenByHash.get(hash);
      return r ? toToken(r) : null;
    },
    token: (tokenId: string) => {
      const r = tokenById.get(tokenId);
      return r ? toToken(r) : null;
    },
    tokens: (username?: string) => tokens.all(username ?? null, username ?? null).map(toToken),
  };
}
