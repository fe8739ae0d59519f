import { TOKEN_FIELDS } from './documents.js';
import type { Transport } from './transport.js';
import type { ApiToken, CreatedToken, Role, User, Viewer } from './types.js';

export interface UsersApi {
  /** Who the current credentials act as. */
  me(): Promise<Viewer>;
  list(): Promise<User[]>;
  create(username: string, role: Role): Promise<User>;
  setRole(username: string, role: Role): Promise<User>;
}

export interface TokensApi {
  /** The secret is in the answer only; the server keeps its hash. */
  create(input: { name: string; username?: string; expiresAt?: number }): Promise<CreatedToken>;
  /** Your tokens; admins may list anyone's (or everyone's, without `username`). */
  list(opts?: { username?: string }): Promise<ApiToken[]>;
  revoke(id: string): Promise<ApiToken>;
}

const USER_FIELDS = 'username role createdAt';

// These mutations take no idempotency key, so they are never retried: a retry after a lost
// answer could issue a second token.
export function usersApi(t: Transport): UsersApi {
  return {
    me: async () => (await t.graphql<{ me: Viewer }>('{ me { username role authenticatedBy } }', {}, { retry: true })).me,
    list: async () => (await t.graphql<{ users: User[] }>(`{ users { ${USER_FIELDS} } }`, {}, { retry: true })).users,
    create: async (username, role) =>
      (
        await t.graphql<{ createUser: User }>(
          `mutation($username: String!, $role: Role!) { createUser(username: $username, role: $role) { ${USER_FIELDS} } }`,
          { username, role },
        )
      ).createUser,
    setRole: async (username, role) =>
      (
        await t.graphql<{ changeUserRole: User }>(
          `mutation($username: String!, $role: Role!) { changeUserRole(username: $username, role: $role) { ${USER_FIELDS} } }`,
          { username, role },
        )
      ).changeUserRole,
  };
}

export function tokensApi(t: Transport): TokensApi {
  return {
    create: async ({ name, username, expiresAt }) =>
      (
        await t.graphql<{ createToken: CreatedToken }>(
          `mutation($name: String!, $username: String, $expiresAt: Float) {
            createToken(name: $name, username: $username, expiresAt: $expiresAt) { secret token { ...TokenFields } }
          } ${TOKEN_FIELDS}`,
          { name, username: username ?? null, expiresAt: expiresAt ?? null },
        )
      ).createToken,
    list: async (opts = {}) =>
      (
        await t.graphql<{ tokens: ApiToken[] }>(
          `query($username: String) { tokens(username: $username) { ...TokenFields } } ${TOKEN_FIELDS}`,
          { username: opts.username ?? null },
          { retry: true },
        )
      ).tokens,
    revoke: async (id) =>
      (await t.graphql<{ revokeToken: ApiToken }>(`mutation($id: ID!) { revokeToken(id: $id) { ...TokenFields } } ${TOKEN_FIELDS}`, { id }))
        .revokeToken,
  };
}
