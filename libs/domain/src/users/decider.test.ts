import { describe, expect, it } from 'vitest';
import { ConcurrencyConflict, Forbidden, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import { tokenDecider, userDecider } from './decider.js';
import { requireRole, type Principal } from './roles.js';

describe('users', () => {
  const s0 = userDecider.initialState();
  it('creates a user with a role', () =>
    expect(userDecider.decide({ type: 'CreateUser', data: { username: 'ada', role: 'member', at: 1 } }, s0)).toHaveLength(1));
  it('refuses bad usernames and roles', () => {
    expect(() => userDecider.decide({ type: 'CreateUser', data: { username: 'Ada Lovelace', role: 'member', at: 1 } }, s0)).toThrow(
      ValidationFailed,
    );
    expect(() => userDecider.decide({ type: 'CreateUser', data: { username: 'ada', role: 'root' as never, at: 1 } }, s0)).toThrow(
      /role must be one of/,
    );
  });
  it('refuses a second user of the same name', () =>
    expect(() =>
      userDecider.decide({ type: 'CreateUser', data: { username: 'ada', role: 'member', at: 1 } }, { username: 'ada', role: 'admin' }),
    ).toThrow(ConcurrencyConflict));
});

describe('tokens', () => {
  const issue = {
    type: 'IssueToken' as const,
    data: { tokenId: 't1', username: 'ada', name: 'ci', secretHash: 'h', issuedAt: 10, expiresAt: 20, userExists: true },
  };
  it('issues a token for an existing user, without the secret', () => {
    const [ev] = tokenDecider.decide(issue, tokenDecider.initialState());
    expect(ev).toEqual({
      type: 'TokenIssued',
      data: { tokenId: 't1', username: 'ada', name: 'ci', secretHash: 'h', issuedAt: 10, expiresAt: 20 },
    });
  });
  it('refuses a token for a missing user or with a past expiry', () => {
    expect(() => tokenDecider.decide({ ...issue, data: { ...issue.data, userExists: false } }, tokenDecider.initialState())).toThrow(
      NotFound,
    );
    expect(() => tokenDecider.decide({ ...issue, data: { ...issue.data, expiresAt: 5 } }, tokenDecider.initialState())).toThrow(
      /expiry/,
    );
  });
  it('revokes once', () => {
    expect(tokenDecider.decide({ type: 'RevokeToken', data: { tokenId: 't1', at: 1 } }, { tokenId: 't1', status: 'active' })).toHaveLength(1);
    expect(() =>
      tokenDecider.decide({ type: 'RevokeToken', data: { tokenId: 't1', at: 1 } }, { tokenId: 't1', status: 'revoked' }),
    ).toThrow(IllegalTransition);
  });
});

describe('roles', () => {
  const p = (role: Principal['role']): Principal => ({ username: 'u', role, via: { kind: 'loopback' } });
  it('orders viewer < member < maintainer < admin', () => {
    expect(() => requireRole(p('viewer'), 'member', 'logging')).toThrow(Forbidden);
    expect(() => requireRole(p('member'), 'member', 'logging')).not.toThrow();
    expect(() => requireRole(p('maintainer'), 'admin', 'managing users')).toThrow(/needs the admin role/);
    expect(() => requireRole(p('admin'), 'admin', 'managing users')).not.toThrow();
  });
});
