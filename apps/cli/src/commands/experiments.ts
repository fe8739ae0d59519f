import { ChronicleApiError, type ChronicleClient, type Experiment, type LifecycleFilter } from '@chronicle/sdk';
import type { Command } from 'commander';
import { collectPair } from '../args.js';
import { CliError, contextOf } from '../context.js';
import { formatTime, table, type Io } from '../output.js';

/** Looks an experiment up by id first, then by name, as users type either. */
export async function resolveExperiment(client: ChronicleClient, idOrName: string): Promise<Experiment> {
  for (const lookup of [client.experiments.get, client.experiments.getByName]) {
    try {
      return await lookup(idOrName);
    } catch (e) {
      if (!(e instanceof ChronicleApiError && e.code === 'NOT_FOUND')) throw e;
    }
  }
  throw new CliError(`no experiment with id or name "${idOrName}"; create one with: chronicle experiments create <name>`, 'NOT_FOUND');
}

const tagsText = (e: Experiment) => e.tags.map((t) => `${t.key}=${t.value}`).join(', ');

export function registerExperiments(program: Command, io: Io): void {
  const experiments = program
    .command('experiments')
    .alias('exp')
    .description('create, list, show, delete and restore experiments')
    .addHelpText(
      'after',
      `
Examples:
  $ chronicle experiments create mnist --description "digit classifier" --tag team=vision
  $ chronicle experiments list
  $ chronicle experiments show mnist
  $ chronicle experiments delete 3f2a...   # soft delete; restore brings it back`,
    );

  experiments
    .command('list')
    .description('list experiments (active ones unless --deleted or --all)')
    .option('--deleted', 'only soft-deleted experiments')
    .option('--all', 'active and deleted experiments')
    .option('--name-contains <text>', 'only names containing this text')
    .action(async (opts: { deleted?: boolean; all?: boolean; nameContains?: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const lifecycle: LifecycleFilter = opts.all ? 'ALL' : opts.deleted ? 'DELETED' : 'ACTIVE';
      const list = await ctx.client.experiments.list({ lifecycle, ...(opts.nameContains ? { nameContains: opts.nameContains } : {}) });
      ctx.emit(list, () =>
        list.length === 0
          ? 'no experiments\n'
          : table(
              ['ID', 'NAME', 'RUNS', 'CREATED', ...(lifecycle === 'ACTIVE' ? [] : ['STATE']), 'TAGS'],
              list.map((e) => [
                e.id,
                e.name,
                String(e.runCount),
                formatTime(e.createdAt),
                ...(lifecycle === 'ACTIVE' ? [] : [e.lifecycle.toLowerCase()]),
                tagsText(e),
              ]),
            ),
      );
    });

  experiments
    .command('create <name>')
    .description('create an experiment and print its id')
    .option('-d, --description <text>', 'what the experiment is about')
    .option('-t, --tag <key=value>', 'a tag (repeatable)', collectPair)
    .action(async (name: string, opts: { description?: string; tag?: { key: string; value: string }[] }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const exp = await ctx.client.experiments.create({
        name,
        ...(opts.description !== undefined ? { description: opts.description } : {}),
        tags: opts.tag ?? [],
      });
      ctx.emit(exp, () => `${exp.id}\n`);
    });

  experiments
    .command('show <id-or-name>')
    .description('show one experiment')
    .action(async (idOrName: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const e = await resolveExperiment(ctx.client, idOrName);
      ctx.emit(e, () =>
        [
          `Experiment  ${e.name}`,
          `ID          ${e.id}`,
          `State       ${e.lifecycle.toLowerCase()}`,
          `Description ${e.description || '-'}`,
          `Runs        ${e.runCount}`,
          `Created     ${formatTime(e.createdAt)} by ${e.createdBy}`,
          `Updated     ${formatTime(e.updatedAt)}`,
          `Tags        ${tagsText(e) || '-'}`,
          '',
        ].join('\n'),
      );
    });

  for (const [verb, past] of [
    ['delete', 'deleted'],
    ['restore', 'restored'],
  ] as const) {
    experiments
      .command(`${verb} <id-or-name>`)
      .description(verb === 'delete' ? 'soft-delete an experiment (its name stays taken)' : 'restore a soft-deleted experiment')
      .action(async (idOrName: string, _opts: unknown, cmd: Command) => {
        const ctx = contextOf(cmd, io);
        const { id } = await resolveExperiment(ctx.client, idOrName);
        const e = await ctx.client.experiments[verb](id);
        ctx.emit(e, () => `${past} experiment ${e.name} (${e.id})\n`);
      });
  }
}
