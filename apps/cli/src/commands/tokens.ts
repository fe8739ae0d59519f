import type { ApiToken } from '@chronicle/sdk';
import { Option, type Command } from 'commander';
import { integer } from '../args.js';
import { contextOf } from '../context.js';
import { formatTime, table, type Io } from '../output.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export function registerTokens(program: Command, io: Io): void {
  const tokens = program
    .command('tokens')
    .description('issue, list and revoke API tokens')
    .addHelpText(
      'after',
      `
Examples:
  $ chronicle tokens create ci-bot --user ci --expires-in-days 90
  $ CHRONICLE_TOKEN=<secret> chronicle runs list
  $ chronicle tokens list --user ci
  $ chronicle tokens revoke <tokenId>`,
    );

  tokens
    .command('create <name>')
    .description('issue a token and print its secret (shown only this once)')
    .option('-u, --user <username>', 'issue it for this user (admins only; default: yourself)')
    .addOption(new Option('--expires-in-days <n>', 'expire after this many days (default: never)').argParser(integer({ min: 1 })))
    .action(async (name: string, opts: { user?: string; expiresInDays?: number }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const created = await ctx.client.tokens.create({
        name,
        ...(opts.user ? { username: opts.user } : {}),
        ...(opts.expiresInDays ? { expiresAt: Date.now() + opts.expiresInDays * DAY_MS } : {}),
      });
      // The secret goes to stdout alone (easy to capture); the advice to stderr.
      ctx.emit(created, () => `${created.secret}\n`);
      io.err(
        `warning: store this secret now; it cannot be shown again. Token ${created.token.id} acts as ${created.token.username}` +
          `${created.token.expiresAt ? ` until ${formatTime(created.token.expiresAt)}` : ''}; revoke it with: chronicle tokens revoke ${created.token.id}\n`,
      );
    });

  tokens
    .command('list')
    .description('list your tokens (admins: everyone\'s, or one user\'s with --user)')
    .option('-u, --user <username>', "only this user's tokens")
    .action(async (opts: { user?: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const list = await ctx.client.tokens.list(opts.user ? { username: opts.user } : {});
      ctx.emit(list, () =>
        list.length === 0
          ? 'no tokens\n'
          : table(
              ['ID', 'NAME', 'USER', 'ISSUED', 'EXPIRES', 'STATE'],
              list.map((t) => [t.id, t.name, t.username, formatTime(t.issuedAt), formatTime(t.expiresAt) || 'never', stateOf(t)]),
            ),
      );
    });

  tokens
    .command('revoke <tokenId>')
    .description('revoke a token; requests with it are refused from now on')
    .action(async (tokenId: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const t = await ctx.client.tokens.revoke(tokenId);
      ctx.emit(t, () => `revoked token ${t.id} (${t.name}) of ${t.username}\n`);
    });
}

function stateOf(t: ApiToken): string {
  if (t.revokedAt !== null) return `revoked ${formatTime(t.revokedAt)}`;
  if (t.expiresAt !== null && t.expiresAt <= Date.now()) return 'expired';
  return 'active';
}
