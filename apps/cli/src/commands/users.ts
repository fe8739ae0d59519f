import { Argument, Option, type Command } from 'commander';
import { role, ROLE_CHOICES } from '../args.js';
import { contextOf } from '../context.js';
import { formatTime, table, type Io } from '../output.js';

export function registerUsers(program: Command, io: Io): void {
  const users = program
    .command('users')
    .description('manage users and their roles (admins only)')
    .addHelpText(
      'after',
      `
Roles: viewer reads; member also writes; maintainer also manages models; admin also manages users.

Examples:
  $ chronicle users create ada --role member
  $ chronicle users set-role ada maintainer
  $ chronicle users list`,
    );

  users
    .command('list')
    .description('list users')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const list = await ctx.client.users.list();
      ctx.emit(list, () =>
        table(
          ['USERNAME', 'ROLE', 'CREATED'],
          list.map((u) => [u.username, u.role.toLowerCase(), formatTime(u.createdAt)]),
        ),
      );
    });

  users
    .command('create <username>')
    .description('create a user')
    .addOption(new Option('-r, --role <role>', `one of ${ROLE_CHOICES.join(', ')}`).argParser(role).makeOptionMandatory())
    .action(async (username: string, opts: { role: ReturnType<typeof role> }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const u = await ctx.client.users.create(username, opts.role);
      ctx.emit(u, () => `created user ${u.username} (${u.role.toLowerCase()}); issue a token with: chronicle tokens create <name> --user ${u.username}\n`);
    });

  users
    .command('set-role')
    .description("change a user's role")
    .argument('<username>')
    .addArgument(new Argument('<role>', `one of ${ROLE_CHOICES.join(', ')}`).argParser(role))
    .action(async (username: string, r: ReturnType<typeof role>, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const u = await ctx.client.users.setRole(username, r);
      ctx.emit(u, () => `${u.username} is now ${u.role.toLowerCase()}\n`);
    });
}
