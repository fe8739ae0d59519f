import { createWriteStream, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { AuditEntryPage, AuditExportFormat, AuditLogFilter, IntegrityBreak, IntegrityReport } from '@chronicle/sdk';
import { Argument, InvalidArgumentError, Option, type Command } from 'commander';
import { collect, integer } from '../args.js';
import { CliError, contextOf, type CommandContext } from '../context.js';
import { formatDuration, formatTime, table, type Io } from '../output.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30m`, `12h`, `7d` ago, an ISO 8601 date, or milliseconds since the epoch. */
export function parseSince(raw: string, now: number = Date.now()): number {
  const rel = /^(\d+)([smhdw])$/.exec(raw.trim());
  if (rel) return now - Number(rel[1]) * UNITS[rel[2]!]!;
  const ms = /^\d+$/.test(raw.trim()) ? Number(raw) : Date.parse(raw);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected a duration like 30m, 12h or 7d, or a date like 2025-01-31.');
  return ms;
}

function renderPage(page: AuditEntryPage, nextHint: (cursor: string) => string): string {
  if (page.nodes.length === 0) return 'no events\n';
  let out = table(
    ['POSITION', 'TIME', 'ACTOR', 'ENTITY', 'TYPE', 'CORRELATION'],
    page.nodes.map((e) => [String(e.position), formatTime(e.recordedAt), e.actor, `${e.entityKind}:${e.entityId}`, e.type, e.correlationId]),
  );
  if (page.pageInfo.hasNextPage && page.pageInfo.endCursor) out += `next page: ${nextHint(page.pageInfo.endCursor)}\n`;
  return out;
}

const where = (b: IntegrityBreak) =>
  [b.stream ?? 'the log', b.revision !== null ? `revision ${b.revision}` : null, b.position !== null ? `(position ${b.position})` : null]
    .filter(Boolean)
    .join(' ');

function renderReport(r: IntegrityReport): string {
  const mb = (r.bytesHashed / 1024 / 1024).toFixed(1);
  const lines = [
    `Integrity   ${r.ok ? 'OK' : 'BROKEN'}`,
    `Verified    ${r.events} events in ${r.streams} streams, up to position ${r.headPosition} (${mb} MB hashed in ${formatDuration(r.ms)})`,
    `Seals       ${r.sealsVerified} verified${r.lastSealedPosition !== null ? `, the last one covering up to position ${r.lastSealedPosition}` : ''}`,
  ];
  if (r.firstBreak) {
    lines.push(`First break ${where(r.firstBreak)}: ${r.firstBreak.kind}: ${r.firstBreak.reason}`);
    lines.push('', `Breaks (${r.breaks.length}${r.breaksTruncated ? '+' : ''})`);
    for (const b of r.breaks) lines.push(`  ${b.kind.padEnd(22)} ${where(b)}: ${b.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Verifies a stopped server's SQLite file in this process; trusts only seals made with its seal key. */
async function verifyDataDir(dataDir: string): Promise<IntegrityReport> {
  const [{ verifyLog, readSealKey, SEAL_KEY_FILE }, { createSqliteEventStore }, { DATABASE_FILE }] = await Promise.all([
    import('@chronicle/audit'),
    import('@chronicle/event-store'),
    import('@chronicle/server'),
  ]);
  const path = join(dataDir, DATABASE_FILE);
  if (!existsSync(path)) throw new CliError(`no Chronicle data in ${dataDir} (${DATABASE_FILE} is missing)`, 'NOT_FOUND');
  const keyFile = join(dataDir, SEAL_KEY_FILE);
  const store = createSqliteEventStore({ path });
  try {
    const r = await verifyLog(store, existsSync(keyFile) ? { trustedSealKeys: [readSealKey(keyFile).publicKeyPem] } : {});
    return { ...r, sealsVerified: r.seals.verified, lastSealedPosition: r.seals.lastSealedPosition };
  } finally {
    await store.close();
  }
}

async function exportLog(ctx: CommandContext, filter: AuditLogFilter, format: AuditExportFormat, output: string | undefined) {
  const body = await ctx.client.audit.export(filter, format);
  const source = Readable.fromWeb(body as WebReadableStream<Uint8Array>);
  if (output) {
    await pipeline(source, createWriteStream(output));
    ctx.io.err(`wrote the audit log to ${output}\n`);
  } else for await (const chunk of source) ctx.io.out(Buffer.from(chunk as Uint8Array).toString('utf8'));
}

export function registerAudit(program: Command, io: Io): void {
  program
    .command('history <entity>')
    .description('every change to one entity, oldest first: run:<id>, experiment:<id>, user:<name>, token:<id>, or a stream name')
    .addOption(new Option('-n, --limit <n>', 'at most this many events').argParser(integer({ min: 1, max: 1000 })).default(50))
    .option('--after <cursor>', 'the cursor printed under the previous page')
    .action(async (entity: string, opts: { limit: number; after?: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const page = await ctx.client.audit.history(entity, { first: opts.limit, ...(opts.after ? { after: opts.after } : {}) });
      ctx.emit(page, () => renderPage(page, (c) => `chronicle history ${entity} --after ${c}`));
    });

  const audit = program
    .command('audit')
    .description('the audit log and integrity verification (admins only)')
    .addHelpText(
      'after',
      `
Examples:
  $ chronicle audit log --actor user:ada --since 7d
  $ chronicle audit log --type RunDeleted --type ExperimentDeleted --format csv --output deletions.csv
  $ chronicle audit verify
  $ chronicle audit verify --data-dir ./.chronicle   # the server must be stopped
  $ chronicle audit report churn 3 --format json --out churn-v3.json`,
    );

  audit
    .command('log')
    .description('the event log, oldest first; --format or --output exports all of it as JSONL or CSV')
    .option('--actor <actor>', 'only events by this actor, e.g. user:ada')
    .option('--entity-kind <kind>', 'only events of this kind of entity: run, experiment, user, token, …')
    .option('-t, --type <eventType>', 'only events of this type (repeatable)', collect)
    .addOption(new Option('--since <when>', 'from this time: 30m, 12h, 7d, or a date').argParser((v) => parseSince(v)))
    .addOption(new Option('--until <when>', 'before this time: 30m, 12h, 7d, or a date').argParser((v) => parseSince(v)))
    .addOption(new Option('--format <format>', 'export format').choices(['jsonl', 'csv']))
    .option('-o, --output <file>', 'write the export to this file instead of stdout')
    .addOption(new Option('-n, --limit <n>', 'at most this many events (without --format)').argParser(integer({ min: 1, max: 1000 })).default(50))
    .option('--after <cursor>', 'the cursor printed under the previous page')
    .action(
      async (
        opts: { actor?: string; entityKind?: string; type?: string[]; since?: number; until?: number; format?: AuditExportFormat; output?: string; limit: number; after?: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd, io);
        const filter: AuditLogFilter = {
          ...(opts.actor ? { actor: opts.actor } : {}),
          ...(opts.entityKind ? { entityKind: opts.entityKind } : {}),
          ...(opts.type ? { eventTypes: opts.type } : {}),
          ...(opts.since !== undefined ? { from: opts.since } : {}),
          ...(opts.until !== undefined ? { to: opts.until } : {}),
        };
        if (opts.format || opts.output) return exportLog(ctx, filter, opts.format ?? 'jsonl', opts.output);
        const page = await ctx.client.audit.log(filter, { first: opts.limit, ...(opts.after ? { after: opts.after } : {}) });
        ctx.emit(page, () => renderPage(page, (c) => `--after ${c}`));
      },
    );

  audit
    .command('report')
    .argument('<model>', 'the registered model')
    .addArgument(new Argument('<version>', 'the version number').argParser(integer({ min: 1 })))
    .description('the audit report of one model version: what trained it, on which data, approvals, promotions, refusals, deployments, integrity')
    .addOption(new Option('--format <format>', 'md (for people) or json (schema chronicle.audit-report/v1)').choices(['md', 'json']).default('md'))
    .option('-o, --out <file>', 'write the report to this file instead of stdout')
    .option('--as-of <position|time>', 'the report as the log stood then: a global position or an ISO 8601 time')
    .option('--no-verify', 'skip the integrity check (it reads the whole log and needs the maintainer role)')
    .addHelpText(
      'after',
      `
Exits 1 if a stream the report relies on fails verification.

Examples:
  $ chronicle audit report churn 3 --out churn-v3-audit.md
  $ chronicle audit report churn 3 --format json --as-of 2026-11-01T00:00:00Z`,
    )
    .action(async (model: string, n: number, opts: { format: 'md' | 'json'; out?: string; asOf?: string; verify: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const doc = await ctx.client.audit.report(model, n, { format: opts.format, verify: opts.verify, ...(opts.asOf !== undefined ? { asOf: opts.asOf } : {}) });
      if (opts.out) {
        await writeFile(opts.out, doc.content);
        io.err(`wrote the ${opts.format === 'json' ? 'JSON' : 'Markdown'} audit report of ${model} version ${n} to ${opts.out}\n`);
      } else ctx.emit(doc.report, () => doc.content);
      if (doc.integrityOk === false)
        throw new CliError(`a stream this report relies on fails verification; run \`chronicle audit verify\` for details`, 'INTEGRITY_BROKEN');
    });

  audit
    .command('verify')
    .description('recompute every hash chain and check every seal; exits 1 if anything was tampered with')
    .option('--data-dir <dir>', "verify this data directory's file directly, without a server (stop the server first)")
    .action(async (opts: { dataDir?: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const report = opts.dataDir ? await verifyDataDir(opts.dataDir) : await ctx.client.audit.verify();
      ctx.emit(report, () => renderReport(report));
      const b = report.firstBreak;
      if (b) throw new CliError(`the event log fails verification at ${where(b)}: ${b.reason}`, 'INTEGRITY_BROKEN');
    });
}
