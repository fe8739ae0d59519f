import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { SingleBar } from 'cli-progress';
import { ChronicleApiError, type ModelStage, type ModelVersion, type RegisteredModel } from '@chronicle/sdk';
import { downloadArtifactFile, uploadArtifactFile } from '@chronicle/sdk/node';
import { Option, type Command } from 'commander';
import { collectPair, integer } from '../args.js';
import { CliError, contextOf } from '../context.js';
import { formatTime, table, type Io } from '../output.js';
import { asOfOf, asOfOption } from '../as-of-option.js';

// Below this a bar would only flicker.
const PROGRESS_MIN_BYTES = 8 * 1024 * 1024;

/** A bar of bytes moved, on stderr when it is a terminal and the file is big enough to wait for. */
function progress(io: Io, verb: string): { start(total: number): void; add(n: number): void; stop(): void } {
  const mb = (n: number) => Math.round(n / (1024 * 1024));
  let bar: SingleBar | null = null;
  let done = 0;
  return {
    start(total) {
      if (!io.interactive || total < PROGRESS_MIN_BYTES) return;
      bar = new SingleBar({ format: `${verb} |{bar}| {percentage}% | {value}/{total} MB`, stream: process.stderr, hideCursor: true, clearOnComplete: true });
      bar.start(mb(total), 0);
    },
    add(n) {
      done += n;
      bar?.update(mb(done));
    },
    stop: () => bar?.stop(),
  };
}

const STAGES: Record<string, ModelStage> = { none: 'NONE', staging: 'STAGING', production: 'PRODUCTION', archived: 'ARCHIVED' };
function stageOf(s: string): ModelStage {
  const stage = STAGES[s.toLowerCase()];
  if (!stage) throw new CliError(`stage must be one of None, Staging, Production, Archived`);
  return stage;
}

const versionLine = (v: ModelVersion) =>
  `${v.model} version ${v.version}  stage ${v.stage}${v.aliases.length ? `  aliases ${v.aliases.join(', ')}` : ''}\n  run ${v.runId}  ${v.artifactPath}  sha256 ${v.sha256}  ${v.size} bytes\n`;

function renderModel(m: RegisteredModel): string {
  let out = `Model       ${m.name}\nDescription ${m.description}\nCreated     ${formatTime(m.createdAt)} by ${m.createdBy}\n`;
  if (m.card.owners.length) out += `Owners      ${m.card.owners.join(', ')}\n`;
  if (m.card.intendedUse) out += `Intended    ${m.card.intendedUse}\n`;
  if (m.card.limitations) out += `Limitations ${m.card.limitations}\n`;
  out += `\nVersions (${m.versions.length})\n`;
  if (m.versions.length)
    out += table(['  VERSION', 'STAGE', 'ALIASES', 'RUN', 'CREATED'], m.versions.map((v) => [`  ${v.version}`, v.stage, v.aliases.join(','), v.runId, formatTime(v.createdAt)]));
  return out;
}

export function registerArtifacts(program: Command, io: Io): void {
  const artifacts = program.command('artifacts').description('upload and download run artifacts (streamed, any size)');

  artifacts
    .command('upload <runId> <file>')
    .description("put a file in the run's artifacts: copied by the server when it runs on this machine and may read the file's directory, else streamed")
    .option('-p, --path <path>', 'artifact path in the run (default: the file name)')
    .option('--content-type <type>', 'content type', 'application/octet-stream')
    .option('--no-same-host', 'always stream over HTTP, even to a server on this machine')
    .action(async (runId: string, file: string, opts: { path?: string; contentType: string; sameHost: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const bar = progress(io, 'uploading');
      bar.start((await stat(file)).size);
      try {
        const res = await uploadArtifactFile(ctx.client, runId, opts.path ?? basename(file), file, {
          contentType: opts.contentType,
          sameHost: opts.sameHost,
          onBytes: (n) => bar.add(n),
        });
        bar.stop();
        ctx.emit(res, () => `${res.created ? 'uploaded' : 'already there:'} ${res.path} (${res.size} bytes, sha256 ${res.sha256}, ${res.mode})\n`);
      } finally {
        bar.stop();
      }
    });

  artifacts
    .command('download <runId> <path>')
    .description('download an artifact, checking its sha256 (a same-host copy when the server runs on this machine and allows it)')
    .option('-o, --output <file>', 'where to write it (default: the last part of the path)')
    .option('--no-same-host', 'always stream over HTTP, even from a server on this machine')
    .action(async (runId: string, path: string, opts: { output?: string; sameHost: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const target = opts.output ?? basename(path);
      const bar = progress(io, 'downloading');
      let res: Awaited<ReturnType<typeof downloadArtifactFile>>;
      try {
        // Only a complete, verified file that is on disk ever appears under the target name.
        res = await downloadArtifactFile(ctx.client, runId, path, target, {
          sameHost: opts.sameHost,
          onStart: (size) => bar.start(size),
          onBytes: (n) => bar.add(n),
        });
      } catch (e) {
        if (e instanceof ChronicleApiError && e.code === 'INTEGRITY') throw new CliError(e.message, 'INTEGRITY');
        throw e;
      } finally {
        bar.stop();
      }
      ctx.emit({ runId, path, file: target, size: res.size, sha256: res.sha256, mode: res.mode }, () => `wrote ${target} (${res.size} bytes, sha256 ${res.sha256}, ${res.mode})\n`);
    });
}

export function registerModels(program: Command, io: Io): void {
  const models = program
    .command('models')
    .description('the model registry: models, versions, aliases and stages')
    .addHelpText(
      'after',
      `
Examples:
  $ chronicle models register churn --description "Churn model" --owner ana
  $ chronicle models create-version churn --run $RUN --artifact model.pkl
  $ chronicle models set-alias churn champion 3 --expect 2
  $ chronicle models transition churn 3 Production --archive-existing
  $ chronicle models resolve churn@champion`,
    );

  models
    .command('register <name>')
    .description('register a model')
    .option('-d, --description <text>', 'description', '')
    .option('-t, --tag <key=value>', 'tag (repeatable)', collectPair, [])
    .option('--intended-use <text>')
    .option('--limitations <text>')
    .option('--training-data <text>')
    .option('--evaluation <text>')
    .option('--owner <name>', 'owner (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .action(async (name: string, opts: { description: string; tag: { key: string; value: string }[]; intendedUse?: string; limitations?: string; trainingData?: string; evaluation?: string; owner?: string[] }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const card = Object.fromEntries(
        Object.entries({ intendedUse: opts.intendedUse, limitations: opts.limitations, trainingData: opts.trainingData, evaluation: opts.evaluation, owners: opts.owner }).filter(([, v]) => v !== undefined),
      );
      const m = await ctx.client.models.register({ name, description: opts.description, tags: opts.tag, card });
      ctx.emit(m, () => `registered ${m.name}\n`);
    });

  models
    .command('list')
    .description('list models')
    .option('--name-contains <text>')
    .addOption(asOfOption())
    .action(async (opts: { nameContains?: string; asOf?: number | string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const list = await ctx.client.models.list({ ...(opts.nameContains ? { nameContains: opts.nameContains } : {}), ...asOfOf(opts) });
      ctx.emit(list, () =>
        list.length === 0
          ? 'no models\n'
          : table(['NAME', 'LATEST', 'ALIASES', 'CREATED'], list.map((m) => [m.name, String(m.latestVersion), m.aliases.map((a) => `${a.alias}=${a.version}`).join(','), formatTime(m.createdAt)])),
      );
    });

  models
    .command('show <name>')
    .description('show a model, its card and versions')
    .addOption(asOfOption())
    .action(async (name: string, opts: { asOf?: number | string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const m = await ctx.client.models.get(name, asOfOf(opts));
      ctx.emit(m, () => renderModel(m));
    });

  models
    .command('create-version <model>')
    .description("register one of a run's artifacts as the model's next version")
    .requiredOption('-r, --run <runId>', 'the run')
    .requiredOption('-a, --artifact <path>', "the artifact's path in the run")
    .option('--format <format>')
    .option('-d, --description <text>')
    .action(async (model: string, opts: { run: string; artifact: string; format?: string; description?: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const v = await ctx.client.models.createVersion({
        model,
        runId: opts.run,
        artifactPath: opts.artifact,
        ...(opts.format ? { format: opts.format } : {}),
        ...(opts.description ? { description: opts.description } : {}),
      });
      ctx.emit(v, () => `${v.version}\n`);
    });

  models
    .command('set-alias <model> <alias> <version>')
    .description('point an alias at a version (needs maintainer)')
    .addOption(new Option('--expect <version>', 'only if this version holds it now (0: none); else CONFLICT').argParser(integer({ min: 0 })))
    .action(async (model: string, alias: string, version: string, opts: { expect?: number }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const v = await ctx.client.models.setAlias(model, alias, integer({ min: 1 })(version), opts.expect);
      ctx.emit(v, () => `${model}@${alias} -> version ${v.version}\n`);
    });

  models
    .command('remove-alias <model> <alias>')
    .description('remove an alias (needs maintainer)')
    .addOption(new Option('--expect <version>', 'only if this version holds it now').argParser(integer({ min: 1 })))
    .action(async (model: string, alias: string, opts: { expect?: number }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const m = await ctx.client.models.removeAlias(model, alias, opts.expect);
      ctx.emit(m, () => `removed ${model}@${alias}\n`);
    });

  models
    .command('transition <model> <version> <stage>')
    .description('move a version to None, Staging, Production or Archived (needs maintainer)')
    .option('--archive-existing', 'archive the other versions in that stage')
    .action(async (model: string, version: string, stage: string, opts: { archiveExisting?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const v = await ctx.client.models.transitionStage(model, integer({ min: 1 })(version), stageOf(stage), { archiveExisting: Boolean(opts.archiveExisting) });
      ctx.emit(v, () => `${model} version ${v.version} is now ${v.stage}\n`);
    });

  models
    .command('resolve <ref>')
    .description('the version name@alias, name/<stage> or name/<version> names now')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const v = await ctx.client.models.resolve(ref);
      ctx.emit(v, () => versionLine(v));
    });

  models
    .command('alias-history <model> <alias>')
    .description('which versions held an alias, when, and who set them')
    .option('--at <ms>', 'only the holder at this time (ms since the epoch)', (v: string) => Number(v))
    .action(async (model: string, alias: string, opts: { at?: number }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const periods = await ctx.client.models.aliasHistory(model, alias, opts.at);
      ctx.emit(periods, () =>
        periods.length === 0
          ? 'no version held it\n'
          : table(['VERSION', 'FROM', 'TO', 'SET BY'], periods.map((p) => [String(p.version), formatTime(p.fromTime), p.toTime === null ? 'now' : formatTime(p.toTime), p.setBy])),
      );
    });
}
