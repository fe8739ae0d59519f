import { SingleBar } from 'cli-progress';
import type { KeyValue, LifecycleFilter, Run, TerminalStatus } from '@chronicle/sdk';
import { Argument, Option, type Command } from 'commander';
import { collect, collectPair, integer, metricPair, STATUS_CHOICES, terminalStatus } from '../args.js';
import { asciiChart } from '../chart.js';
import { captureRunContext } from '@chronicle/sdk/node';
import { contextOf } from '../context.js';
import { formatOf, importMetrics, type ImportFormat } from '../import-metrics.js';
import { formatDuration, formatTime, formatValue, table, type Io } from '../output.js';
import { resolveExperiment } from './experiments.js';
import { asOfOf, asOfOption } from '../as-of-option.js';

const METRIC_COLUMNS = 3;

/** Metric keys a filter or ordering mentions (`metrics.acc`, metrics.`val loss`), in order. */
function mentionedMetrics(texts: readonly string[]): string[] {
  const keys: string[] = [];
  for (const text of texts)
    for (const m of text.matchAll(/metrics\.(?:`([^`]+)`|"([^"]+)"|([\p{L}\p{N}_\-.:/]+))/gu)) keys.push((m[1] ?? m[2] ?? m[3])!);
  return keys;
}

/** The metrics worth a column: those the query mentions, then the most common ones. */
function metricColumns(runs: readonly Run[], mentioned: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const r of runs) for (const m of r.metrics) counts.set(m.key, (counts.get(m.key) ?? 0) + 1);
  const common = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
  return [...new Set([...mentioned.filter((k) => counts.has(k)), ...common])].slice(0, METRIC_COLUMNS);
}

const pairs = (kvs: readonly KeyValue[]) => kvs.map((kv) => `  ${kv.key} = ${kv.value}`).join('\n');

function renderRun(run: Run, experimentName: string | null): string {
  const lines = [
    `Run         ${run.id}${run.name ? `  (${run.name})` : ''}`,
    `Experiment  ${experimentName ? `${experimentName} (${run.experimentId})` : run.experimentId}`,
    `Status      ${run.status}${run.lifecycle === 'DELETED' ? ' (deleted)' : ''}`,
    `Started     ${formatTime(run.startTime)} by ${run.userId}`,
  ];
  if (run.endTime !== null) lines.push(`Ended       ${formatTime(run.endTime)} (took ${formatDuration(run.endTime - run.startTime)})`);
  if (run.parentRunId) lines.push(`Parent      ${run.parentRunId}`);
  const src = [run.source.source, run.source.entryPoint, run.source.gitRepo, run.source.gitCommit].filter(Boolean);
  if (src.length > 0) lines.push(`Source      ${src.join('  ')}`);
  lines.push('', `Params (${run.params.length})`, ...(run.params.length ? [pairs(run.params)] : []));
  lines.push('', `Tags (${run.tags.length})`, ...(run.tags.length ? [pairs(run.tags)] : []));
  lines.push('', `Metrics (${run.metrics.length}, latest values)`);
  let out = lines.join('\n') + '\n';
  if (run.metrics.length > 0)
    out += table(
      ['  KEY', 'VALUE', 'STEP', 'POINTS', 'LOGGED'],
      run.metrics.map((m) => [`  ${m.key}`, formatValue(m.value), String(m.step), String(m.count), formatTime(m.timestamp)]),
    );
  return out;
}

export function registerRuns(program: Command, io: Io): void {
  const runs = program
    .command('runs')
    .description('search, inspect and log to runs')
    .addHelpText(
      'after',
      `
Examples:
  $ RUN=$(chronicle runs start --experiment mnist --name baseline --param lr=0.01 --tag team=vision)
  $ chronicle runs log-metric $RUN loss=0.42 acc=0.91 --step 1
  $ chronicle runs finish $RUN
  $ chronicle runs list --experiment mnist --filter "metrics.acc > 0.9 and params.lr = '0.01'" --order-by "metrics.acc DESC"
  $ chronicle runs metric $RUN loss --max-points 60
  $ chronicle runs import-metrics $RUN metrics.csv   # header: key,step,value[,timestamp]`,
    );

  runs
    .command('list')
    .description('search runs, newest first unless --order-by says otherwise')
    .option('-e, --experiment <id-or-name>', 'only runs of this experiment (repeatable)', collect)
    .option('-f, --filter <expr>', "MLflow search syntax plus OR, NOT, parentheses, e.g. \"metrics.acc > 0.9 and tags.team = 'vision'\"")
    .option('-o, --order-by <term...>', 'e.g. "metrics.acc DESC" "start_time"')
    .addOption(new Option('-n, --limit <n>', 'at most this many runs').argParser(integer({ min: 1 })).default(50))
    .option('--after <cursor>', 'the cursor printed under the previous page')
    .option('--deleted', 'only soft-deleted runs')
    .option('--all', 'active and deleted runs')
    .addOption(asOfOption())
    .action(
      async (
        opts: { experiment?: string[]; filter?: string; orderBy?: string[]; limit: number; after?: string; deleted?: boolean; all?: boolean; asOf?: number | string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd, io);
        const experimentIds = opts.experiment
          ? await Promise.all(opts.experiment.map(async (e) => (await resolveExperiment(ctx.client, e)).id))
          : undefined;
        const lifecycle: LifecycleFilter = opts.all ? 'ALL' : opts.deleted ? 'DELETED' : 'ACTIVE';
        const page = await ctx.client.runs.search({
          ...(experimentIds ? { experimentIds } : {}),
          ...(opts.filter ? { filter: opts.filter } : {}),
          ...(opts.orderBy ? { orderBy: opts.orderBy } : {}),
          ...(opts.after ? { after: opts.after } : {}),
          first: opts.limit,
          lifecycle,
          ...asOfOf(opts),
        });
        ctx.emit(page, () => {
          if (page.nodes.length === 0) return 'no runs match\n';
          const keys = metricColumns(page.nodes, mentionedMetrics([opts.filter ?? '', ...(opts.orderBy ?? [])]));
          const rows = page.nodes.map((r) => [
            r.id,
            r.name,
            r.status + (r.lifecycle === 'DELETED' ? ' (deleted)' : ''),
            formatTime(r.startTime),
            ...keys.map((k) => {
              const m = r.metrics.find((x) => x.key === k);
              return m ? formatValue(m.value) : '-';
            }),
          ]);
          let out = table(['RUN ID', 'NAME', 'STATUS', 'STARTED', ...keys], rows);
          out += `${page.nodes.length} of ${page.totalCount} runs`;
          if (page.pageInfo.hasNextPage && page.pageInfo.endCursor) out += `; next page: --after ${page.pageInfo.endCursor}`;
          return `${out}\n`;
        });
      },
    );

  runs
    .command('show <runId>')
    .description('show a run: status, params, tags and latest metrics')
    .addOption(asOfOption())
    .action(async (runId: string, opts: { asOf?: number | string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const run = await ctx.client.runs.get(runId, asOfOf(opts));
      if (ctx.json) return ctx.emit(run, () => '');
      const experiment = await ctx.client.experiments.get(run.experimentId, asOfOf(opts)).catch(() => null);
      ctx.emit(run, () => renderRun(run, experiment?.name ?? null));
    });

  runs
    .command('start')
    .description('start a run and print its id')
    .requiredOption('-e, --experiment <id-or-name>', 'the experiment to log to')
    .option('--name <name>', 'a name for the run')
    .option('-t, --tag <key=value>', 'a tag (repeatable)', collectPair)
    .option('-p, --param <key=value>', 'a param (repeatable; params are immutable)', collectPair)
    .option('--parent <runId>', 'nest the run under another run of the same experiment')
    .option('--no-git', "don't record the current directory's git commit, branch, remote and uncommitted diff")
    .action(
      async (opts: { experiment: string; name?: string; tag?: KeyValue[]; param?: KeyValue[]; parent?: string; git: boolean }, cmd: Command) => {
        const ctx = contextOf(cmd, io);
        const experiment = await resolveExperiment(ctx.client, opts.experiment);
        // The git state of where the run is started from, so `chronicle reproduce` can name the code.
        const source = opts.git ? (await captureRunContext({ command: false })).source : undefined;
        let run = await ctx.client.runs.start({
          ...(source && Object.keys(source).length > 0 ? { source } : {}),
          experimentId: experiment.id,
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.parent !== undefined ? { parentRunId: opts.parent } : {}),
          tags: opts.tag ?? [],
        });
        if (opts.param?.length) run = await ctx.client.runs.logParams(run.id, opts.param);
        ctx.emit(run, () => `${run.id}\n`);
      },
    );

  runs
    .command('log-param')
    .description('log params (immutable: a different value for a logged key is refused)')
    .argument('<runId>')
    .addArgument(new Argument('<key=value...>', 'params to log').argParser(collectPair))
    .action(async (runId: string, params: KeyValue[], _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const run = await ctx.client.runs.logParams(runId, params);
      ctx.emit(run, () => `logged ${params.length} param${params.length === 1 ? '' : 's'} to run ${run.id}\n`);
    });

  runs
    .command('log-metric')
    .description('log metric values (nan, inf and -inf are fine)')
    .argument('<runId>')
    .addArgument(new Argument('<key=value...>', 'metric values to log').argParser(metricPair))
    .addOption(new Option('-s, --step <n>', 'the step of every value (default 0)').argParser(integer()))
    .addOption(new Option('--timestamp <ms>', 'milliseconds since the epoch (default now)').argParser(integer({ min: 0 })))
    .action(
      async (runId: string, points: { key: string; value: number }[], opts: { step?: number; timestamp?: number }, cmd: Command) => {
        const ctx = contextOf(cmd, io);
        const res = await ctx.client.runs.logMetrics(
          runId,
          points.map((p) => ({
            ...p,
            ...(opts.step !== undefined ? { step: opts.step } : {}),
            ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
          })),
        );
        ctx.emit(res, () => `logged ${res.accepted} point${res.accepted === 1 ? '' : 's'} to run ${runId}\n`);
      },
    );

  runs
    .command('set-tag')
    .description('set tags (tags, unlike params, may change)')
    .argument('<runId>')
    .addArgument(new Argument('<key=value...>', 'tags to set').argParser(collectPair))
    .action(async (runId: string, tags: KeyValue[], _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const run = await ctx.client.runs.setTags(runId, tags);
      ctx.emit(run, () => `set ${tags.length} tag${tags.length === 1 ? '' : 's'} on run ${run.id}\n`);
    });

  runs
    .command('delete-tag <runId> <key>')
    .description('remove a tag')
    .action(async (runId: string, key: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const run = await ctx.client.runs.deleteTag(runId, key);
      ctx.emit(run, () => `removed tag ${key} from run ${run.id}\n`);
    });

  runs
    .command('finish <runId>')
    .description('end a run')
    .addOption(
      new Option('--status <status>', `how it ended: ${STATUS_CHOICES.join(', ')}`).argParser(terminalStatus).default('FINISHED'),
    )
    .action(async (runId: string, opts: { status: TerminalStatus }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const run = await ctx.client.runs.finish(runId, opts.status);
      ctx.emit(run, () => `run ${run.id} ${run.status}\n`);
    });

  for (const [verb, past, what] of [
    ['delete', 'deleted', 'soft-delete a run (restore brings it back; its history is kept)'],
    ['restore', 'restored', 'restore a soft-deleted run'],
  ] as const) {
    runs
      .command(`${verb} <runId>`)
      .description(what)
      .action(async (runId: string, _opts: unknown, cmd: Command) => {
        const ctx = contextOf(cmd, io);
        const run = await ctx.client.runs[verb](runId);
        ctx.emit(run, () => `${past} run ${run.id}\n`);
      });
  }

  runs
    .command('move <runId> <experiment>')
    .description('move a run to another experiment (id or name)')
    .action(async (runId: string, target: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const experiment = await resolveExperiment(ctx.client, target);
      const run = await ctx.client.runs.move(runId, experiment.id);
      ctx.emit(run, () => `moved run ${run.id} to experiment ${experiment.name} (${experiment.id})\n`);
    });

  runs
    .command('metric <runId> <key>')
    .description('print a downsampled series of one metric, with an ASCII chart')
    .addOption(new Option('-m, --max-points <n>', 'at most this many points').argParser(integer({ min: 2, max: 100_000 })).default(50))
    .option('--no-chart', 'the table only')
    .addOption(asOfOption())
    .action(async (runId: string, key: string, opts: { maxPoints: number; chart: boolean; asOf?: number | string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const series = await ctx.client.runs.metricSeries(runId, key, opts.maxPoints, asOfOf(opts));
      ctx.emit(series, () => {
        const shown = series.points.length;
        let out = `${key} on run ${runId}: ${series.totalPoints} points stored, ${shown} shown`;
        out += series.level > 0 ? ` (downsampling tier ${series.level})\n` : '\n';
        if (shown === 0) return out;
        if (opts.chart) out += `\n${asciiChart(series.points)}\n`;
        return out + table(['STEP', 'VALUE'], series.points.map((p) => [String(p.step), formatValue(p.value)]));
      });
    });

  runs
    .command('import-metrics <runId> <file>')
    .description('bulk-load metric points from an NDJSON or CSV file')
    .addOption(new Option('--format <format>', 'file format; by default .csv files are CSV, others NDJSON').choices(['ndjson', 'csv']))
    .addOption(new Option('--batch-size <n>', 'points per request').argParser(integer({ min: 1, max: 1_000_000 })).default(10_000))
    .addHelpText(
      'after',
      `
NDJSON: one point per line, {"key":"loss","value":0.5,"step":1,"timestamp":1700000000000}
CSV:    a header naming the columns key,step,value[,timestamp], then one point per row
Values may be NaN, Infinity or -Infinity; timestamps are epoch milliseconds or ISO dates.

Each batch carries an idempotency key derived from the run, its position and its content,
so re-running an interrupted import does not duplicate the batches that already landed.`,
    )
    .action(async (runId: string, file: string, opts: { format?: ImportFormat; batchSize: number }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const bar = io.interactive && !ctx.json ? progressBar() : null;
      const started = Date.now();
      bar?.start(1, 0, { points: 0, rate: 0 });
      try {
        const res = await importMetrics(ctx.client, runId, file, {
          format: formatOf(file, opts.format),
          batchSize: opts.batchSize,
          onProgress: (p) => {
            const seconds = Math.max(0.001, (Date.now() - started) / 1000);
            bar?.setTotal(Math.max(1, p.totalBytes));
            bar?.update(p.bytes, { points: p.points, rate: Math.round(p.points / seconds) });
          },
        });
        bar?.stop();
        const rate = Math.round(res.points / Math.max(0.001, res.ms / 1000));
        ctx.emit(res, () => {
          const replayed = res.replayedBatches > 0 ? ` (${res.replayedBatches} already imported before)` : '';
          return `imported ${res.points} points in ${res.batches} batch${res.batches === 1 ? '' : 'es'}${replayed} to run ${runId} in ${formatDuration(res.ms)} (${rate} points/s)\n`;
        });
      } catch (e) {
        bar?.stop();
        throw e;
      }
    });
}

function progressBar(): SingleBar {
  return new SingleBar({
    format: 'importing |{bar}| {percentage}% | {points} points | {rate} points/s | {duration_formatted}',
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
  });
}
