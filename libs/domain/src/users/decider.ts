import { assertNever, ConcurrencyConflict, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import type { Decider } from '../shared/decider.js';
import { validateText } from '../shared/validation.js';
import type { TokenEvent, UserEvent } from './events.js';
import { isRole, ROLES, type Role } from './roles.js';

const USERNAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface User {
  username: string;
  role: Role | null;
}

export type UserCommand =
  | { type: 'CreateUser'; data: { username: string; role: Role; at: number } }
  | { type: 'ChangeUserRole'; data: { username: string; role: Role } };

function validRole(role: unknown): Role {
  if (!isRole(role)) throw new ValidationFailed(`role must be one of ${ROLES.join(', ')}`, { field: 'role' });
  return role;
}

export const userDecider: Decider<User, UserCommand, UserEvent> = {
  initialState: () => ({ username: '', role: null }),
  decide(cmd, user) {
    switch (cmd.type) {
      case 'CreateUser':
        if (!USERNAME.test(cmd.data.username))
          throw new ValidationFailed(
            'username must be 1-64 lowercase letters, digits, dots, dashes or underscores, starting with a letter or digit',
            { field: 'username' },
          );
        if (user.role !== null) throw new ConcurrencyConflict(`user ${cmd.data.username} already exists`);
        return [{ type: 'UserCreated', data: { ...cmd.data, role: validRole(cmd.data.role) } }];
      case 'ChangeUserRole':
        if (user.role === null) throw new NotFound(`user ${cmd.data.username} does not exist`);
        if (user.role === cmd.data.role) return [];
        return [{ type: 'UserRoleChanged', data: { ...cmd.data, role: validRole(cmd.data.role) } }];
      default:
        return assertNever(cmd);
    }
  },
  evolve(user, ev) {
    return { username: ev.data.username, role: ev.data.role };
  },
};

export interface Token {
  tokenId: string;
  status: 'none' | 'active' | 'revoked';
}

export type TokenCommand =
  | {
      type: 'IssueToken';
      data: {
        tokenId: string;
        username: string;
        name: string;
        secretHash: string;
        issuedAt: number;
        expiresAt: number | null;
        userExists: boolean;
      };
    }
  | { type: 'RevokeToken'; data: { tokenId: string; at: number } };

export const tokenDecider: Decider<Token, TokenCommand, TokenEvent> = {
  initialState: () => ({ tokenId: '', status: 'none' }),
  decide(cmd, token) {
    switch (cmd.type) {
      case 'IssueToken': {
        const { userExists, ...data } = cmd.data;
        if (!userExists) throw new NotFound(`user ${data.username} does not exist`, { username: data.username });
        if (token.status !== 'none') throw new ConcurrencyConflict(`token ${data.tokenId} already exists`);
        validateText('token name', data.name, 200);
        if (data.expiresAt !== null && data.expiresAt <= data.issuedAt)
          throw new ValidationFailed('token expiry must be in the future', { field: 'expiresAt' });
        return [{ type: 'TokenIssued', data }];
      }
      case 'RevokeToken':
        if (token.status === 'none') throw new NotFound(`token ${cmd.data.tokenId} does not exist`);
        if (token.status === 'revoked') throw new IllegalTransition(`token ${cmd.data.tokenId} is already revoked`);
        return [{ type: 'TokenRevoked', data: cmd.data }];
      default:
        return assertNever(cmd);
    }
  },
  evolve(token, ev) {
    return { tokenId: ev.data.tokenId, status: ev.type === 'TokenIssued' ? 'active' : 'revoked' };
  },
};
