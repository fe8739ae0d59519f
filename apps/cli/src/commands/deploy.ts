import { InvalidArgumentError, type Command } from 'commander';
import type { Deployment, WebhookEventKind } from '@chronicle/sdk';
import { CliError, contextOf } from '../context.js';
import { formatDuration, formatTime, table, type Io } from '../output.js';
import { asOfOf, asOfOption } from '../as-of-option.js';

/** `60s`, `500ms`, `2m`, `1h`; a bare number is seconds. */
export function parseDuration(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new InvalidArgumentError('expected a duration such as 500ms, 60s, 2m or 1h.');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

/**
 * Splits a command line into argv the way a shell would quote, without a shell: nothing is
 * expanded or substituted, so the server runs exactly these words.
 */
export function splitArgv(line: string): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new InvalidArgumentError(`unclosed ${quote} quote in the command.`);
  if (inWord) out.push(word);
  if (out.length === 0) throw new InvalidArgumentError('the command is empty.');
  return out;
}

const EVENT_KINDS: Record<string, WebhookEventKind> = {
  'model-version-created': 'MODEL_VERSION_CREATED',
  'alias-moved': 'ALIAS_MOVED',
  'promotion-refused': 'PROMOTION_REFUSED',
  'deployment-changed': 'DEPLOYMENT_CHANGED',
};

function eventKind(raw: string, previous: WebhookEventKind[] | undefined): WebhookEventKind[] {
  const kind = EVENT_KINDS[raw.toLowerCase().replaceAll('_', '-')];
  if (!kind) throw new InvalidArgumentError(`expected one of ${Object.keys(EVENT_KINDS).join(', ')}.`);
  return [...(previous ?? []), kind];
}

const deploymentLine = (d: Deployment) =>
  `deployment ${d.id}: ${d.model} version ${d.version} to ${d.environment} ${d.status.toLowerCase()}${d.error ? ` (${d.error})` : ''}\n`;

async function settle(cmd: Command, io: Io, d: Deployment, wait: boolean | undefined): Promise<void> {
  const ctx = contextOf(cmd, io);
  if (!wait) return ctx.emit(d, () => deploymentLine(d));
  if (!ctx.json) io.err(`waiting for deployment ${d.id}...\n`);
  const done = await ctx.client.deployments.waitFor(d.id);
  let rollback: Deployment | null = null;
  if (done.status !== 'SUCCEEDED') {
    // An automatic rollback is requested right after the failure: report it with the outcome.
    const recent = await ctx.client.deployments.list(done.environment, { first: 5 });
    rollback = recent.nodes.find((x) => x.rollbackOf === done.id) ?? null;
  }
  ctx.emit({ ...done, automaticRollback: rollback?.id ?? null }, () => deploymentLine(done) + (rollback ? `rolled back automatically: deployment ${rollback.id}\n` : ''));
  // A rollback that succeeded still means the requested version is not live.
  if (done.status !== 'SUCCEEDED') throw new CliError(`deployment ${done.id} ${done.status.toLowerCase()}`, done.status);
}

export function registerDeployments(program: Command, io: Io): void {
  const env = program.command('env').description('deployment environments and their targets');
  env
    .command('create <name>')
    .description('create an environment that deploys through a webhook or a local command')
    .option('--webhook <url>', 'POST each deployment as signed JSON to this URL (2xx = deployed)')
    .option('--secret <secret>', 'webhook signing secret (default: generated and printed once)')
    .option('--command <cmdline>', 'run this program for each deployment (split into argv, no shell; exit 0 = deployed)')
    .option('--timeout <duration>', 'give up and fail the deployment as timed out after this long', parseDuration, 60_000)
    .option('--health-url <url>', 'after the target succeeds, poll this URL until it answers 2xx')
    .option('--health-timeout <duration>', 'how long the health check may take', parseDuration, 30_000)
    .addHelpText(
      'after',
      `
Examples:
  $ chronicle env create staging --webhook https://deploy.example.com/hooks/chronicle
  $ chronicle env create production --command "./deploy.sh --fast" --timeout 5m --health-url http://svc/healthz

A command target gets CHRONICLE_MODEL, CHRONICLE_MODEL_VERSION, CHRONICLE_ARTIFACT_PATH (the version's
file, materialised) and CHRONICLE_ARTIFACT_SHA256. See docs/deployments.md for webhook signatures.`,
    )
    .action(async (name: string, opts: { webhook?: string; secret?: string; command?: string; timeout: number; healthUrl?: string; healthTimeout: number }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      if (Boolean(opts.webhook) === Boolean(opts.command)) throw new CliError('give exactly one target: --webhook <url> or --command "<cmdline>"');
      const target = opts.webhook
        ? { webhook: { url: opts.webhook, ...(opts.secret ? { secret: opts.secret } : {}) } }
        : { command: splitArgv(opts.command!) };
      const res = await ctx.client.deployments.createEnvironment(name, target, {
        timeoutMs: opts.timeout,
        ...(opts.healthUrl ? { healthCheckUrl: opts.healthUrl, healthCheckTimeoutMs: opts.healthTimeout } : {}),
      });
      ctx.emit(res, () => `created environment ${name}\n` + (res.secret ? `signing secret (shown once, keep it): ${res.secret}\n` : ''));
    });
  env
    .command('list')
    .description('list environments and what is live in each')
    .addOption(asOfOption())
    .action(async (opts: { asOf?: number | string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const envs = await ctx.client.deployments.environments(asOfOf(opts));
      ctx.emit(envs, () =>
        table(['NAME', 'TARGET', 'TIMEOUT', 'CREATED'], envs.map((e) => [e.name, e.targetUrl ?? (e.targetArgv ?? []).join(' '), formatDuration(e.timeoutMs), formatTime(e.createdAt)])),
      );
    });

  program
    .command('deploy <model> <version>')
    .description('deploy a model version (a number or @alias) to an environment')
    .requiredOption('--env <environment>', 'the environment')
    .option('--reason <text>', 'why (kept in the deployment history)', '')
    .option('--wait', 'wait for the outcome: exit 0 when deployed, 1 when it failed or was rolled back')
    .addHelpText('after', '\nExamples:\n  $ chronicle deploy churn 7 --env production --reason "fixes drift" --wait\n  $ chronicle deploy churn @champion --env staging')
    .action(async (model: string, versionArg: string, opts: { env: string; reason: string; wait?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      let version: number;
      if (versionArg.startsWith('@')) version = (await ctx.client.models.resolve(`${model}${versionArg}`)).version;
      else if (/^\d+$/.test(versionArg)) version = Number(versionArg);
      else throw new CliError(`version must be a number or @alias, not "${versionArg}"`);
      const d = await ctx.client.deployments.deploy(opts.env, model, version, opts.reason);
      await settle(cmd, io, d, opts.wait);
    });

  program
    .command('rollback')
    .description('redeploy an earlier successful deployment (default: the one before the live one)')
    .requiredOption('--env <environment>', 'the environment')
    .option('--to <deploymentId>', 'the deployment to restore')
    .option('--reason <text>', 'why')
    .option('--wait', 'wait for the outcome: exit 0 when restored, 1 otherwise')
    .addHelpText('after', '\nExamples:\n  $ chronicle rollback --env production --wait\n  $ chronicle rollback --env production --to 3f2a9c...')
    .action(async (opts: { env: string; to?: string; reason?: string; wait?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const d = await ctx.client.deployments.rollback(opts.env, { ...(opts.to ? { toDeploymentId: opts.to } : {}), ...(opts.reason ? { reason: opts.reason } : {}) });
      await settle(cmd, io, d, opts.wait);
    });

  program
    .command('deployments')
    .description("an environment's deployment history, newest first")
    .requiredOption('--env <environment>', 'the environment')
    .option('--first <n>', 'how many', (v) => Number(v), 20)
    .addOption(asOfOption())
    .action(async (opts: { env: string; first: number; asOf?: number | string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const page = await ctx.client.deployments.list(opts.env, { first: opts.first, ...asOfOf(opts) });
      ctx.emit(page.nodes, () =>
        table(
          ['ID', 'MODEL', 'VERSION', 'STATUS', 'BY', 'REQUESTED', 'REASON'],
          page.nodes.map((d) => [d.id, d.model, String(d.version), d.status.toLowerCase(), d.requestedBy, formatTime(d.requestedAt), d.reason]),
        ),
      );
    });

  const hooks = program.command('webhooks').description('signed webhook subscriptions to registry events');
  hooks
    .command('create <url>')
    .description('subscribe a URL to events (repeat --event)')
    .requiredOption('--event <kind>', `one of ${Object.keys(EVENT_KINDS).join(', ')} (repeatable)`, eventKind)
    .option('--secret <secret>', 'signing secret (default: generated and printed once)')
    .addHelpText('after', '\nExample:\n  $ chronicle webhooks create https://ci.example.com/hook --event model-version-created --event alias-moved')
    .action(async (url: string, opts: { event: WebhookEventKind[]; secret?: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const res = await ctx.client.webhooks.create(url, opts.event, opts.secret);
      ctx.emit(res, () => `created webhook ${res.webhook.id}\n` + (res.secret ? `signing secret (shown once, keep it): ${res.secret}\n` : ''));
    });
  hooks
    .command('list')
    .description('list webhook subscriptions')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const list = await ctx.client.webhooks.list();
      ctx.emit(list, () => table(['ID', 'URL', 'EVENTS'], list.map((w) => [w.id, w.url, w.events.join(',')])));
    });
  hooks
    .command('deliveries <webhookId>')
    .description('every delivery attempt to a webhook, newest first')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const list = await ctx.client.webhooks.deliveries(id);
      ctx.emit(list, () =>
        table(
          ['DELIVERY', 'EVENT', 'ATTEMPT', 'STATUS', 'DURATION', 'ERROR'],
          list.map((d) => [d.deliveryId, d.event, String(d.attempt), d.statusCode === null ? '-' : String(d.statusCode), formatDuration(d.durationMs), d.error ?? '']),
        ),
      );
    });
  hooks
    .command('delete <webhookId>')
    .description('stop delivering to a webhook')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const w = await ctx.client.webhooks.delete(id);
      ctx.emit(w, () => `deleted webhook ${w.id}\n`);
    });
}
