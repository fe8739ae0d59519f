import type { DomainEvent } from '../shared/decider.js';
import type { Role } from './roles.js';

export const userStream = (username: string) => `user-${username}`;
export const tokenStream = (tokenId: string) => `token-${tokenId}`;

export type UserCreated = DomainEvent<'UserCreated', { username: string; role: Role; at: number }>;
export type UserRoleChanged = DomainEvent<'UserRoleChanged', { username: string; role: Role }>;
export type UserEvent = UserCreated | UserRoleChanged;

export type TokenIssued = DomainEvent<
  'TokenIssued',
  {
    tokenId: string;
    username: string;
    name: string;
    /** SHA-256 of the secret; the secret itself is shown once and never stored. */
    secretHash: string;
    issuedAt: number;
    expiresAt: number | null;
  }
>;
export type TokenRevoked = DomainEvent<'TokenRevoked', { tokenId: string; at: number }>;
export type TokenEvent = TokenIssued | TokenRevoked;
