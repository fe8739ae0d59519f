import { NotFound, requireRole } from '@chronicle/domain';
import { arg, floatArg, idArg, list, mutationField, nonNull, objectType, queryField, stringArg, enumType } from 'nexus';
import { asOfArg } from './as-of.js';
import { commandContext } from './context.js';

export const Role = enumType({
  name: 'Role',
  description: 'viewer reads; member also writes; maintainer also manages models; admin also manages users.',
  members: [
    { name: 'VIEWER', value: 'viewer' },
    { name: 'MEMBER', value: 'member' },
    { name: 'MAINTAINER', value: 'maintainer' },
    { name: 'ADMIN', value: 'admin' },
  ],
});

export const User = objectType({
  name: 'User',
  definition(t) {
    t.nonNull.string('username');
    t.nonNull.field('role', { type: 'Role' });
    t.float('createdAt');
  },
});

export const Viewer = objectType({
  name: 'Viewer',
  description: 'Who the current request acts as.',
  definition(t) {
    t.nonNull.string('username');
    t.nonNull.field('role', { type: 'Role' });
    t.nonNull.string('authenticatedBy', { description: '`token:<id>` or `loopback`.' });
  },
});

export const ApiToken = objectType({
  name: 'ApiToken',
  description: 'A bearer token acting as a user. Only its SHA-256 is stored.',
  definition(t) {
    t.nonNull.id('id', { resolve: (tk) => tk.tokenId });
    t.nonNull.string('username');
    t.nonNull.string('name');
    t.nonNull.float('issuedAt');
    t.float('expiresAt');
    t.float('revokedAt');
    t.nonNull.string('issuedBy');
  },
});

export const CreatedToken = objectType({
  name: 'CreatedToken',
  definition(t) {
    t.nonNull.field('token', { type: 'ApiToken' });
    t.nonNull.string('secret', { description: 'Shown this once; send it as `Authorization: Bearer <secret>`.' });
  },
});

export const meQuery = queryField('me', {
  type: nonNull('Viewer'),
  resolve: (_r, _a, { principal: p }) => ({
    username: p.username,
    role: p.role,
    authenticatedBy: p.via.kind === 'token' ? `token:${p.via.tokenId}` : p.via.kind,
  }),
});

export const usersQuery = queryField('users', {
  type: nonNull(list(nonNull('User'))),
  args: { asOf: asOfArg() },
  resolve(_r, _a, ctx) {
    requireRole(ctx.principal, 'admin', 'listing users');
    return ctx.read.users.list();
  },
});

export const tokensQuery = queryField('tokens', {
  type: nonNull(list(nonNull('ApiToken'))),
  description: "Your tokens; admins may list anyone's (or everyone's, without `username`).",
  args: { username: stringArg(), asOf: asOfArg() },
  resolve(_r, { username }, ctx) {
    const who = username ?? (ctx.principal.role === 'admin' ? undefined : ctx.principal.username);
    if (who !== ctx.principal.username) requireRole(ctx.principal, 'admin', "listing other users' tokens");
    return ctx.read.users.tokens(who);
  },
});

export const createUser = mutationField('createUser', {
  type: nonNull('User'),
  args: { username: nonNull(stringArg()), role: nonNull(arg({ type: 'Role' })) },
  async resolve(_r, { username, role }, ctx) {
    await ctx.commands.users.create(commandContext(ctx), username, role);
    return ctx.read.users.get(username)!;
  },
});

export const changeUserRole = mutationField('changeUserRole', {
  type: nonNull('User'),
  args: { username: nonNull(stringArg()), role: nonNull(arg({ type: 'Role' })) },
  async resolve(_r, { username, role }, ctx) {
    await ctx.commands.users.changeRole(commandContext(ctx), username, role);
    return ctx.read.users.get(username)!;
  },
});

export const createToken = mutationField('createToken', {
  type: nonNull('CreatedToken'),
  args: {
    name: nonNull(stringArg()),
    username: stringArg({ description: 'Defaults to yourself; admins may issue for others.' }),
    expiresAt: floatArg({ description: 'Milliseconds since the epoch; no expiry if omitted.' }),
  },
  async resolve(_r, { name, username, expiresAt }, ctx) {
    const res = await ctx.commands.users.issueToken(commandContext(ctx), {
      name,
      expiresAt: expiresAt ?? null,
      ...(username ? { username } : {}),
    });
    return { token: ctx.read.users.token(res.tokenId)!, secret: res.secret };
  },
});

export const revokeToken = mutationField('revokeToken', {
  type: nonNull('ApiToken'),
  args: { id: nonNull(idArg()) },
  async resolve(_r, { id }, ctx) {
    const token = ctx.read.users.token(id);
    if (!token) throw new NotFound(`token ${id} does not exist`);
    await ctx.commands.users.revokeToken(commandContext(ctx), id, token.username);
    return ctx.read.users.token(id)!;
  },
});
