import { ChronicleApiError, type ApproverRole, type PromotionCheck, type PromotionGates, type RuleCheck } from '@chronicle/sdk';
import { CommanderError, Option, type Command } from 'commander';
import { integer } from '../args.js';
import { CliError, contextOf } from '../context.js';
import type { Io } from '../output.js';

const STAGES = ['None', 'Staging', 'Production', 'Archived'];
const STAGE_ENUM: Record<string, 'NONE' | 'STAGING' | 'PRODUCTION' | 'ARCHIVED'> = {
  None: 'NONE',
  Staging: 'STAGING',
  Production: 'PRODUCTION',
  Archived: 'ARCHIVED',
};

const checkLine = (c: Pick<RuleCheck, 'passed' | 'rule' | 'message'>) => `  ${c.passed ? '✓' : '✗'} ${c.rule}  (${c.message})\n`;

export function renderCheck(r: PromotionCheck): string {
  let out = `${r.model} version ${r.version} → ${r.target}: ${r.passed ? 'PASS' : 'FAIL'}`;
  out += r.gatesVersion === 0 ? '  (no gates)\n' : `  (gates v${r.gatesVersion}, ${r.holderVersion === null ? 'no current holder' : `current holder v${r.holderVersion}`})\n`;
  for (const c of r.checks) out += checkLine(c);
  return out;
}

function renderGates(g: PromotionGates | null, model: string, target: string): string {
  if (!g) return `${model} → ${target}: no gates\n`;
  let out = `${g.model} → ${g.target}: gates v${g.version}, set by ${g.setBy}\n`;
  for (const r of g.metricRules) out += `  rule      ${r}\n`;
  for (const i of g.requiredInputs) out += `  input     ${i.dataset}${i.version ? ` v${i.version}` : ''}${i.role ? ` as ${i.role}` : ''}\n`;
  if (g.approval) out += `  approvals ${g.approval.count} by ${g.approval.minRole.toLowerCase()} or above\n`;
  return out;
}

/** `dataset[@version][:role]`, e.g. `churn-data@3:train`. */
function requiredInput(raw: string, previous: { dataset: string; version: number | null; role: 'train' | 'validation' | 'test' | null }[] = []) {
  const m = /^([^@:]+)(?:@(\d+))?(?::(train|validation|test))?$/.exec(raw.trim());
  if (!m) throw new CliError(`--require-input "${raw}" is not dataset[@version][:train|validation|test]`);
  return [...previous, { dataset: m[1]!, version: m[2] ? Number(m[2]) : null, role: (m[3] ?? null) as 'train' | 'validation' | 'test' | null }];
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerPromotion(program: Command, io: Io): void {
  program
    .command('gate <model> <version>')
    .description('check the promotion gates of a version without promoting (for CI): exit 0 if every rule passes, 1 if one fails, 2 on other errors')
    .requiredOption('--to <target>', 'alias (champion) or stage (Staging, Production)')
    .addHelpText('after', '\nExamples:\n  $ chronicle gate churn 7 --to champion\n  $ chronicle gate churn 7 --to Production --json')
    .action(async (model: string, version: string, opts: { to: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      let report: PromotionCheck;
      try {
        report = await ctx.client.promotion.check(model, integer({ min: 1 })(version), opts.to);
      } catch (e) {
        // 1 must mean "a gate failed", so a CI step can tell a refusal from a broken pipeline.
        const code = e instanceof ChronicleApiError ? ` (${e.code})` : '';
        io.err(`error: ${e instanceof Error ? e.message : String(e)}${code}\n`);
        throw new CommanderError(2, 'chronicle.gate', 'gate check failed to run');
      }
      ctx.emit(report, () => renderCheck(report));
      if (!report.passed) {
        const failed = report.checks.filter((c) => !c.passed).length;
        throw new CliError(`${failed} of ${report.checks.length} gate rule${report.checks.length === 1 ? '' : 's'} failed`, 'GATE_FAILED');
      }
    });

  program
    .command('promote <model> <version>')
    .description('move an alias or stage to a version through its promotion gates (non-interactive; uses CHRONICLE_TOKEN)')
    .requiredOption('--to <target>', 'alias (champion) or stage (Staging, Production)')
    .option('--expect <current>', 'compare-and-set: the version you expect to hold the alias now (0: none)', integer({ min: 0 }))
    .option('--archive-existing', 'for a stage: archive the other versions in it')
    .addHelpText(
      'after',
      '\nExamples:\n  $ chronicle promote churn 7 --to champion --expect 6\n  $ chronicle promote churn 7 --to Production --archive-existing\n\nA refusal lists every failing rule and exits 1; it is recorded (see promotionRefusals).',
    )
    .action(async (model: string, version: string, opts: { to: string; expect?: number; archiveExisting?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const v = integer({ min: 1 })(version);
      try {
        const stage = STAGES.includes(opts.to) ? STAGE_ENUM[opts.to] : undefined;
        if (stage && opts.expect !== undefined) throw new CliError('--expect applies to aliases; stages take no compare-and-set here');
        const res = stage
          ? await ctx.client.models.transitionStage(model, v, stage, { archiveExisting: opts.archiveExisting ?? false })
          : await ctx.client.models.setAlias(model, opts.to, v, opts.expect);
        ctx.emit(res, () => `${model} ${opts.to} → version ${v}\n`);
      } catch (e) {
        if (e instanceof ChronicleApiError && e.code === 'FAILED_PRECONDITION' && Array.isArray(e.details['failures']) && !ctx.json)
          for (const f of e.details['failures'] as RuleCheck[]) io.err(checkLine(f));
        throw e;
      }
    });

  program
    .command('approve <model> <version>')
    .description('approve promoting a version to an alias or stage (member or above; each user counts once)')
    .requiredOption('--for <target>', 'the alias or stage this approval is for')
    .option('--comment <text>', 'why', '')
    .addHelpText('after', '\nExample:\n  $ chronicle approve churn 7 --for champion --comment "reviewed the eval report"')
    .action(async (model: string, version: string, opts: { for: string; comment: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const v = integer({ min: 1 })(version);
      await ctx.client.promotion.approve(model, v, opts.for, opts.comment);
      ctx.emit({ model, version: v, target: opts.for, approved: true }, () => `approved ${model} version ${v} for ${opts.for}\n`);
    });

  const gates = program.command('gates').description('promotion gates: the rules a version must pass to take an alias or stage');
  gates
    .command('set <model>')
    .description('replace the gates of a target with a new version (maintainer)')
    .requiredOption('--to <target>', 'alias (champion) or stage (Production)')
    .option('--rule <expr>', 'metric rule, repeatable: "metrics.auc >= 0.9", "metrics.loss <= champion.metrics.loss * 1.02"', collect)
    .option('--require-input <dataset[@version][:role]>', 'the run must have declared this dataset input, repeatable', requiredInput)
    .option('--approvals <n>', 'approvals needed', integer({ min: 0, max: 20 }))
    .addOption(new Option('--approver-role <role>', 'lowest role whose approval counts').choices(['member', 'maintainer', 'admin']).default('maintainer'))
    .addHelpText(
      'after',
      '\nExample:\n  $ chronicle gates set churn --to champion --rule "metrics.auc >= 0.9" \\\n      --rule "metrics.auc >= champion.metrics.auc - 0.005" --require-input churn-data:train --approvals 1 --approver-role maintainer',
    )
    .action(
      async (
        model: string,
        opts: { to: string; rule?: string[]; requireInput?: ReturnType<typeof requiredInput>; approvals?: number; approverRole: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd, io);
        const g = await ctx.client.promotion.setGates(model, opts.to, {
          metricRules: opts.rule ?? [],
          requiredInputs: opts.requireInput ?? [],
          ...(opts.approvals ? { approvals: opts.approvals, approverRole: opts.approverRole.toUpperCase() as ApproverRole } : {}),
        });
        ctx.emit(g, () => renderGates(g, model, opts.to));
      },
    );
  gates
    .command('show <model>')
    .description('show the gates in force for a target, or with --history every version of them')
    .requiredOption('--to <target>', 'alias or stage')
    .option('--history', 'every version, newest first')
    .action(async (model: string, opts: { to: string; history?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      if (opts.history) {
        const all = await ctx.client.promotion.gateHistory(model, opts.to);
        ctx.emit(all, () => (all.length ? all.map((g) => renderGates(g, model, opts.to)).join('\n') : `${model} → ${opts.to}: no gates\n`));
      } else {
        const g = await ctx.client.promotion.gates(model, opts.to);
        ctx.emit(g, () => renderGates(g, model, opts.to));
      }
    });
}
