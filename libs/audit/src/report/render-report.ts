import type { ModelVersionAuditReport, Stamp } from './report.js';

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('.000Z', 'Z'));
const cell = (s: unknown) => String(s ?? '').replaceAll('|', '\\|').replaceAll('\n', ' ');
const code = (s: string) => `\`${s.replaceAll('`', 'ˋ')}\``;
const who = (s: Stamp | null) => (s ? `${s.actor} at ${iso(s.at)} (position ${s.position})` : 'not on record');
const table = (head: string[], rows: unknown[][]) => [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];

/** The report as Markdown for an auditor: every section of the JSON form, in reading order. */
export function renderAuditReportMarkdown(r: ModelVersionAuditReport): string {
  const v = r.version;
  const t = r.training;
  const out: string[] = [];
  const section = (title: string, body: string[], empty: string) => out.push('', `## ${title}`, '', ...(body.length ? body : [empty]));

  out.push(`# Audit report: model ${code(r.model.name)} version ${v.version}`, '');
  out.push(
    `Generated ${iso(r.generatedAt)} from the event log as of position ${r.asOf.position}${r.asOf.latest ? ' (the latest)' : ` of ${r.asOf.head}`}${r.asOf.recordedAt !== null ? `, recorded ${iso(r.asOf.recordedAt)}` : ''}.`,
  );
  const i = r.integrity;
  out.push(
    '',
    !i.verified
      ? '**Integrity: not verified.**'
      : i.ok
        ? `**Integrity: verified.** Every hash chain this report relies on holds (log verified up to position ${i.verifiedUpTo}${i.logOk ? '' : '; other streams have breaks'}).`
        : `**Integrity: BROKEN.** A stream this report relies on fails verification; see the Integrity section before trusting it.`,
  );

  const live = r.deployments.filter((d) => d.liveFrom !== null && d.liveUntil === null).map((d) => d.environment);
  section(
    'Summary',
    [
      `- Trained by run ${code(v.runId)}${t ? `, started by ${t.started.actor} on ${iso(t.startTime)}${t.source.gitCommit ? ` at commit ${code(t.source.gitCommit)}` : ''}` : ' (no events on record)'}`,
      `- Trained on: ${r.data.length ? r.data.map((d) => `${d.versionId} (${d.role})`).join(', ') : 'no declared dataset inputs'}`,
      `- Version registered by ${who(v.created)}`,
      `- Approvals: ${r.approvals.length}; promotions: ${r.promotions.filter((p) => p.direction === 'promotion').length}; demotions: ${r.promotions.filter((p) => p.direction === 'demotion').length}; refused promotions: ${r.refusals.length}`,
      `- Now: stage ${v.stage}${v.aliases.length ? `, aliases ${v.aliases.join(', ')}` : ', no aliases'}${v.deleted ? ', deleted' : ''}`,
      `- Deployments: ${r.deployments.length}${live.length ? `; live in ${live.join(', ')}` : '; live nowhere'}`,
    ],
    '',
  );

  section(
    'Model version',
    [
      `- Model ${code(r.model.name)}${r.model.previousNames.length ? ` (formerly ${r.model.previousNames.map(code).join(', ')})` : ''}, registered by ${who(r.model.registered)}`,
      ...(r.model.description ? [`- Model description: ${r.model.description}`] : []),
      `- Version ${v.version} created by ${who(v.created)}`,
      `- Artifact ${code(v.artifactPath)} of run ${code(v.runId)}: sha256 ${code(v.sha256)}, ${v.size} bytes${v.format ? `, format ${v.format}` : ''}`,
      ...(v.description ? [`- Description: ${v.description}`] : []),
      ...(v.deleted ? [`- Deleted by ${who(v.deleted)}`] : []),
    ],
    '',
  );

  if (t) {
    const s = t.source;
    section(
      'What trained it',
      [
        `- Run ${code(t.runId)}${t.name ? ` (${t.name})` : ''} in experiment ${t.experimentId}, started by ${who(t.started)}; status ${t.status}${t.endTime !== null ? `, ended ${iso(t.endTime)}` : ''}`,
        `- Code: repository ${s.gitRepo ? code(s.gitRepo) : 'not recorded'}, commit ${s.gitCommit ? code(s.gitCommit) : 'not recorded'}${s.gitDirty === undefined ? '' : s.gitDirty ? ', with uncommitted changes' : ', clean tree'}`,
        `- Entry point: ${s.entryPoint ? code(s.entryPoint) : 'not recorded'}; command: ${s.command ? code(s.command.join(' ')) : 'not recorded'}`,
        ...(t.reproductionOf ? [`- This run reproduces run ${code(t.reproductionOf)}`] : []),
        '',
        `Params (${t.params.length}):`,
        '',
        ...(t.params.length ? table(['Key', 'Value'], t.params.map((p) => [p.key, p.value])) : ['None logged.']),
        '',
        `Final metrics (${t.metrics.length}, latest value of each):`,
        '',
        ...(t.metrics.length ? table(['Metric', 'Value', 'Step'], t.metrics.map((m) => [m.key, m.value, m.step])) : ['None logged.']),
        ...(Object.keys(t.environment).length ? ['', 'Environment:', '', '```json', JSON.stringify(t.environment, null, 2), '```'] : []),
      ],
      '',
    );
  } else section('What trained it', [], `Run ${code(v.runId)} has no events in the log.`);

  section(
    'On which data',
    r.data.length
      ? table(
          ['Dataset version', 'Role', 'Files', 'Bytes', 'Manifest SHA-256', 'Committed', 'Declared', 'Deprecated'],
          r.data.map((d) => [d.versionId, d.role, d.fileCount ?? '?', d.totalBytes ?? '?', d.manifestSha256 ?? 'unknown', d.committed ? `${d.committed.actor} ${iso(d.committed.at)}` : '—', `${d.declared.actor} ${iso(d.declared.at)}`, d.deprecated ? `yes: ${d.deprecationReason}` : 'no']),
        )
      : [],
    'The training run declared no dataset inputs.',
  );

  section('Approvals', r.approvals.length ? table(['When', 'Target', 'Approver', 'Role', 'Comment'], r.approvals.map((a) => [iso(a.at), a.target, a.username, a.role, a.comment])) : [], 'None.');

  section(
    'Promotions and demotions',
    r.promotions.length
      ? table(
          ['When', 'Direction', 'Target', 'Change', 'By', 'Gates'],
          r.promotions.map((p) => [iso(p.at), p.direction, `${p.kind} ${p.target}`, `${p.from ?? '—'} → ${p.to ?? '—'}`, p.actor, p.gate ? `v${p.gate.gatesVersion} passed (${p.gate.checks.length} checks)` : '—']),
        )
      : [],
    'None.',
  );

  section(
    'Refused promotions',
    r.refusals.length
      ? table(['When', 'Target', 'Asked by', 'Gates', 'Why'], r.refusals.map((x) => [iso(x.at), x.target, x.actor, `v${x.gatesVersion}`, x.failures.map((f) => f.message || f.rule).join('; ')]))
      : [],
    'None.',
  );

  section(
    'Promotion gates',
    r.gates.length
      ? table(
          ['Target', 'Gates version', 'Set by', 'Metric rules', 'Required inputs', 'Approval'],
          r.gates.map((g) => [g.target, `v${g.version}`, `${g.actor} ${iso(g.at)}`, g.metricRules.join('; ') || '—', g.requiredInputs.length ? JSON.stringify(g.requiredInputs) : '—', g.approval ? `${g.approval.count} × ${g.approval.minRole}+` : '—']),
        )
      : [],
    'No gates were set for the targets this version touched.',
  );

  section(
    'Where it was deployed',
    r.deployments.length
      ? table(
          ['Environment', 'Deployment', 'Requested', 'Reason', 'Status', 'Live', 'Rollback'],
          r.deployments.map((d) => [
            d.environment,
            d.deploymentId,
            `${d.requested.actor} ${iso(d.requested.at)}`,
            d.reason || '—',
            `${d.status}${d.error ? `: ${d.error}` : ''}`,
            d.liveFrom === null ? 'never' : `${iso(d.liveFrom)} → ${d.liveUntil === null ? 'now' : `${iso(d.liveUntil)} (replaced by ${d.replacedBy})`}`,
            [d.rollbackOf ? `rolls back ${d.rollbackOf}` : '', d.rolledBackBy ? `rolled back by ${d.rolledBackBy.deploymentId} (${d.rolledBackBy.actor} ${iso(d.rolledBackBy.at)})` : ''].filter(Boolean).join('; ') || '—',
          ]),
        )
      : [],
    'Never deployed.',
  );

  section(
    'Integrity',
    i.verified
      ? [
          `Log verified up to position ${i.verifiedUpTo}: ${i.logOk ? 'no break anywhere' : 'breaks found'}; ${i.sealsVerified} seals verified${i.lastSealedPosition !== null ? `, the last covering position ${i.lastSealedPosition}` : ''}${i.otherBreaks ? `; ${i.otherBreaks} breaks in streams this report does not rely on` : ''}.`,
          '',
          ...table(
            ['Stream', 'Events read', 'Last revision', 'Last hash', 'Chain'],
            i.streams.map((s) => [s.stream, s.events, s.lastRevision, s.lastHash, s.ok ? 'ok' : `BROKEN: ${s.breaks.map((b) => `${b.kind} at revision ${b.revision}`).join('; ')}`]),
          ),
        ]
      : [],
    'Not verified (requested without verification).',
  );

  section('Timeline', r.timeline.length ? table(['When', 'Position', 'Who', 'What'], r.timeline.map((x) => [iso(x.at), x.position, x.actor, x.what])) : [], 'Nothing on record.');
  section('Gaps in the record', r.gaps.map((g) => `- ${g}`), 'None.');
  return `${out.join('\n')}\n`;
}
