import { Forbidden } from '../errors.js';

export const ROLES = ['viewer', 'member', 'maintainer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (r: unknown): r is Role => typeof r === 'string' && (ROLES as readonly string[]).includes(r);

/** Who is acting: every event records `actor` as `user:<username>`. */
export interface Principal {
  username: string;
  role: Role;
  /** The token used, or how the request was trusted without one. */
  via: { kind: 'token'; tokenId: string } | { kind: 'loopback' } | { kind: 'system' };
}

export const actorOf = (p: Principal): string => (p.via.kind === 'system' ? `system:${p.username}` : `user:${p.username}`);

export function requireRole(p: Principal, min: Role, action: string): void {
  if (ROLES.indexOf(p.role) < ROLES.indexOf(min))
    throw new Forbidden(`${action} needs the ${min} role or above; ${p.username} is ${p.role}`, {
      required: min,
      role: p.role,
    });
}
