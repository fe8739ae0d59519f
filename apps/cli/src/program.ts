import { ChronicleApiError, ChronicleNetworkError } from '@chronicle/sdk';
import { Command, CommanderError, Option } from 'commander';
import { registerAudit } from './commands/audit.js';
import { registerDeployments } from './commands/deploy.js';
import { registerData } from './commands/data.js';
import { registerExperiments } from './commands/experiments.js';
import { registerArtifacts, registerModels } from './commands/registry.js';
import { registerPromotion } from './commands/promotion.js';
import { registerRuns } from './commands/runs.js';
import { registerReplay } from './commands/replay.js';
import { registerReproduce } from './commands/reproduce.js';
import { registerServer } from './commands/server.js';
import { registerTokens } from './commands/tokens.js';
import { registerUsers } from './commands/users.js';
import { contextOf } from './context.js';
import { processIo, type Io } from './output.js';

export const VERSION = '0.1.0';

export function buildProgram(io: Io = processIo): Command {
  const program = new Command('chronicle')
    .description('Chronicle: track machine-learning experiments, runs, params and metrics.')
    .version(VERSION)
    // Settings made before .command() are inherited by every subcommand.
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addOption(new Option('--url <url>', 'server URL').env('CHRONICLE_URL').default('http://127.0.0.1:4000'))
    .addOption(new Option('--token <secret>', 'API token (not needed on the server machine by default)').env('CHRONICLE_TOKEN'))
    .option('--json', 'machine-readable JSON output')
    .addHelpText(
      'after',
      `
Examples:
  $ chronicle server --data-dir ./.chronicle
  $ chronicle experiments create mnist
  $ RUN=$(chronicle runs start --experiment mnist --param lr=0.01)
  $ chronicle runs log-metric $RUN loss=0.31 --step 10
  $ chronicle runs finish $RUN
  $ chronicle runs list --experiment mnist --order-by "metrics.loss ASC" --json
  $ chronicle --url https://chronicle.example.com --token $SECRET runs show $RUN

Errors print "error: <message> (<CODE>)" to stderr and exit 1 (2 for usage errors);
set CHRONICLE_DEBUG=1 to see stack traces.`,
    );

  registerServer(program);
  registerExperiments(program, io);
  registerRuns(program, io);
  registerArtifacts(program, io);
  registerModels(program, io);
  registerData(program, io);
  registerPromotion(program, io);
  registerTokens(program, io);
  registerUsers(program, io);
  registerAudit(program, io);
  registerReplay(program, io);
  registerReproduce(program, io);
  registerDeployments(program, io);
  program
    .command('whoami')
    .description('show who your credentials act as')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const me = await ctx.client.users.me();
      ctx.emit(me, () => `${me.username} (${me.role.toLowerCase()}, via ${me.authenticatedBy})\n`);
    });
  return program;
}

/** Parses and runs one command line; resolves to the exit code instead of exiting. */
export async function runCli(argv: readonly string[], io: Io = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv]);
    return 0;
  } catch (e) {
    return reportError(e, io, env['CHRONICLE_DEBUG'] === '1');
  }
}

function reportError(e: unknown, io: Io, debug: boolean): number {
  // Commander has already printed its message (and help where due).
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown } | null)?.code;
  io.err(`error: ${message}${typeof code === 'string' ? ` (${code})` : ''}\n`);
  const hint = hintFor(e);
  if (hint) io.err(`hint: ${hint}\n`);
  if (debug && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
  return 1;
}

function hintFor(e: unknown): string | null {
  if (e instanceof ChronicleNetworkError)
    return 'is the server running? Start one with `chronicle server`, or point --url (CHRONICLE_URL) at yours';
  if (e instanceof ChronicleApiError && e.code === 'UNAUTHENTICATED') return 'pass --token <secret> or set CHRONICLE_TOKEN';
  if (e instanceof ChronicleApiError && e.code === 'FORBIDDEN') return 'your role does not allow this; an admin can change it with `chronicle users set-role`';
  return null;
}
