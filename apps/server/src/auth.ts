import { userInfo } from 'node:os';
import { hashSecret } from '@chronicle/commands';
import { Unauthenticated, type Principal, type Role } from '@chronicle/domain';
import type { ReadModels } from '@chronicle/projections';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export const isLoopback = (remoteAddress: string | undefined): boolean => remoteAddress !== undefined && LOOPBACK.has(remoteAddress);

export function localUsername(): string {
  const name = (() => {
    try {
      return userInfo().username;
    } catch {
      return 'local';
    }
  })();
  const clean = name.toLowerCase().replace(/[^a-z0-9._-]/g, '-').replace(/^[^a-z0-9]+/, '');
  return clean.slice(0, 64) || 'local';
}

export interface AuthOptions {
  read: ReadModels;
  loopbackRole: Role | 'none';
  clock?: () => number;
}

/**
 * Turns a request's credentials into the principal every command records as its actor.
 * A bearer token acts as its user with the user's current role; a request from this
 * machine without a token may act as the local OS user (the embedded default).
 */
export function createAuthenticator(opts: AuthOptions) {
  const clock = opts.clock ?? Date.now;
  const local = localUsername();
  return function authenticate(authorization: string | undefined, remoteAddress: string | undefined): Principal {
    if (authorization) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!m) throw new Unauthenticated('the Authorization header must be "Bearer <token>"');
      const token = opts.read.users.tokenBySecretHash(hashSecret(m[1]!));
      if (!token) throw new Unauthenticated('unknown API token; create one with `chronicle tokens create`');
      if (token.revokedAt !== null) throw new Unauthenticated(`API token ${token.tokenId} was revoked`);
      if (token.expiresAt !== null && token.expiresAt <= clock())
        throw new Unauthenticated(`API token ${token.tokenId} expired at ${new Date(token.expiresAt).toISOString()}`);
      const user = opts.read.users.get(token.username);
      if (!user) throw new Unauthenticated(`the user of API token ${token.tokenId} no longer exists`);
      return { username: user.username, role: user.role, via: { kind: 'token', tokenId: token.tokenId } };
    }
    if (opts.loopbackRole !== 'none' && remoteAddress && LOOPBACK.has(remoteAddress))
      return { username: local, role: opts.loopbackRole, via: { kind: 'loopback' } };
    throw new Unauthenticated('authentication required: send "Authorization: Bearer <token>"');
  };
}
