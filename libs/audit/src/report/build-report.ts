import { encodeMetricValue, NotFound, type RecordedEvent } from '@chronicle/domain';
import type { ResolvedAsOf } from '../as-of/resolve-position.js';
import type { DatasetVersionFacts } from '../facts/dataset-facts.js';
import type { DeclaredInput } from '../facts/lineage-facts.js';
import type { RunFacts } from '../facts/run-facts.js';
import type { IntegrityReport } from '../verify-log.js';
import {
  AUDIT_REPORT_SCHEMA,
  stampOf,
  type ModelVersionAuditReport,
  type ReportApproval,
  type ReportDeployment,
  type ReportGateConfig,
  type ReportGateDecision,
  type ReportIntegrity,
  type ReportPointerMove,
  type ReportRefusal,
  type ReportRuleCheck,
  type ReportTimelineEntry,
  type Stamp,
} from './report.js';

export interface ReportFacts {
  model: string;
  version: number;
  /** The model's stream up to the as-of position; after a rename, the old name's events first. */
  modelEvents: readonly RecordedEvent[];
  previousNames: readonly string[];
  run: RunFacts | null;
  inputs: readonly DeclaredInput[];
  datasets: ReadonlyMap<string, ReadonlyMap<number, DatasetVersionFacts>>;
  /** Every environment's stream up to the as-of position, by environment name. */
  environments: ReadonlyMap<string, readonly RecordedEvent[]>;
  /** Every stream the report read, with its events: for the integrity section and the timeline. */
  streams: ReadonlyMap<string, readonly RecordedEvent[]>;
  /** The whole log's verification; null when skipped. */
  integrity: IntegrityReport | null;
  asOf: ResolvedAsOf;
  generatedAt: number;
}

type Data = Record<string, any>;
const STAGE_RANK: Record<string, number> = { Archived: -1, None: 0, Staging: 1, Production: 2 };

const checksOf = (raw: unknown): ReportRuleCheck[] =>
  Array.isArray(raw) ? raw.map((c: Data) => ({ kind: String(c['kind'] ?? ''), rule: String(c['rule'] ?? ''), passed: Boolean(c['passed']), message: String(c['message'] ?? '') })) : [];

/** The model stream, folded for one version: what happened to it, who did it, under which gates. */
function foldModel(f: ReportFacts) {
  const v = f.version;
  let registered: Stamp | null = null;
  let description = '';
  let created: (Stamp & { data: Data }) | null = null;
  let deleted: Stamp | null = null;
  let stage = 'None';
  const aliases = new Map<string, number>();
  const approvals: ReportApproval[] = [];
  const promotions: ReportPointerMove[] = [];
  const refusals: ReportRefusal[] = [];
  const allGates: ReportGateConfig[] = [];
  const targets = new Set<string>();
  // A gate pass is appended with the move it allows, in the same request.
  const passes = new Map<string, ReportGateDecision>();
  const passKey = (e: RecordedEvent, target: string) => `${e.correlationId}|${target}`;
  const timeline: ReportTimelineEntry[] = [];
  const note = (e: RecordedEvent, what: string) => timeline.push({ ...stampOf(e), stream: e.stream, type: e.type, what });
  const gateOf = (e: RecordedEvent, target: string) => {
    const g = passes.get(passKey(e, target)) ?? null;
    passes.delete(passKey(e, target));
    return g;
  };

  for (const e of f.modelEvents) {
    const d = e.data as Data;
    switch (e.type) {
      case 'ModelRegistered':
        registered ??= stampOf(e);
        description = String(d['description'] ?? '');
        note(e, `model ${d['name']} registered`);
        break;
      case 'ModelDescriptionUpdated':
        description = String(d['description'] ?? '');
        break;
      case 'ModelRenamed':
        note(e, `model ${d['name']} renamed to ${d['newName']}`);
        break;
      case 'ModelVersionCreated':
        if (d['version'] === v) {
          created = { ...stampOf(e), data: d };
          note(e, `version ${v} created from run ${d['runId']} (artifact ${d['artifactPath']}, sha256 ${d['sha256']})`);
        }
        break;
      case 'ModelVersionDeleted':
        if (d['version'] === v) {
          deleted = stampOf(e);
          note(e, `version ${v} deleted`);
        }
        break;
      case 'PromotionGatesSet':
        allGates.push({
          ...stampOf(e),
          target: String(d['target']),
          version: Number(d['version']),
          metricRules: (d['metricRules'] as string[]) ?? [],
          requiredInputs: (d['requiredInputs'] as unknown[]) ?? [],
          approval: (d['approval'] as ReportGateConfig['approval']) ?? null,
        });
        break;
      case 'ModelVersionApproved':
        if (d['version'] === v) {
          targets.add(String(d['target']));
          approvals.push({ ...stampOf(e), target: String(d['target']), username: String(d['username']), role: String(d['role']), comment: String(d['comment'] ?? '') });
          note(e, `approved for ${d['target']} by ${d['username']} (${d['role']})${d['comment'] ? `: ${d['comment']}` : ''}`);
        }
        break;
      case 'ModelPromotionRefused':
        if (d['version'] === v) {
          targets.add(String(d['target']));
          const failures = checksOf(d['failures']);
          // The refusal names who asked; the event's own actor may be the system that recorded it.
          refusals.push({ ...stampOf(e), actor: String(d['actor'] ?? e.actor), target: String(d['target']), gatesVersion: Number(d['gatesVersion']), holderVersion: (d['holderVersion'] as number | null) ?? null, failures });
          note(e, `promotion to ${d['target']} refused by gates v${d['gatesVersion']}: ${failures.map((c) => c.message || c.rule).join('; ')}`);
        }
        break;
      case 'ModelPromotionGatesPassed':
        if (d['version'] === v) {
          targets.add(String(d['target']));
          passes.set(passKey(e, String(d['target'])), { gatesVersion: Number(d['gatesVersion']), holderVersion: (d['holderVersion'] as number | null) ?? null, checks: checksOf(d['checks']) });
          note(e, `gates v${d['gatesVersion']} for ${d['target']} passed`);
        }
        break;
      case 'ModelAliasSet': {
        const alias = String(d['alias']);
        const prev = (d['previousVersion'] as number | null) ?? null;
        if (d['version'] === v) {
          targets.add(alias);
          promotions.push({ ...stampOf(e), direction: 'promotion', kind: 'alias', target: alias, action: 'alias_set', from: prev === null ? null : `version ${prev}`, to: `version ${v}`, gate: gateOf(e, alias) });
          note(e, `alias ${alias} set to version ${v}${prev !== null ? ` (was version ${prev})` : ''}`);
        } else if (prev === v) {
          targets.add(alias);
          promotions.push({ ...stampOf(e), direction: 'demotion', kind: 'alias', target: alias, action: 'alias_moved_away', from: `version ${v}`, to: `version ${d['version']}`, gate: null });
          note(e, `alias ${alias} moved from version ${v} to version ${d['version']}`);
        }
        if (typeof d['version'] === 'number') aliases.set(alias, d['version']);
        break;
      }
      case 'ModelAliasRemoved': {
        const alias = String(d['alias']);
        if (d['version'] === v) {
          targets.add(alias);
          promotions.push({ ...stampOf(e), direction: 'demotion', kind: 'alias', target: alias, action: 'alias_removed', from: `version ${v}`, to: null, gate: null });
          note(e, `alias ${alias} removed from version ${v}`);
        }
        aliases.delete(alias);
        break;
      }
      case 'ModelVersionStageChanged':
        if (d['version'] === v) {
          const from = String(d['fromStage']);
          const to = String(d['toStage']);
          targets.add(to);
          stage = to;
          const up = (STAGE_RANK[to] ?? 0) > (STAGE_RANK[from] ?? 0);
          promotions.push({ ...stampOf(e), direction: up ? 'promotion' : 'demotion', kind: 'stage', target: to, action: 'stage_changed', from, to, gate: up ? gateOf(e, to) : null });
          note(e, `stage ${from} → ${to}`);
        }
        break;
      case 'ModelRenamedFrom': {
        const carried = (d['aliases'] as Record<string, number> | undefined) ?? {};
        aliases.clear();
        for (const [a, n] of Object.entries(carried)) aliases.set(a, n);
        const versions = (d['versions'] as Record<string, { stage?: string }> | undefined) ?? {};
        if (versions[String(v)]?.stage) stage = versions[String(v)]!.stage!;
        break;
      }
      default:
        break;
    }
  }
  return {
    registered,
    description,
    created,
    deleted,
    stage,
    aliases: [...aliases].filter(([, n]) => n === v).map(([a]) => a).sort(),
    approvals,
    promotions,
    refusals,
    gates: allGates.filter((g) => targets.has(g.target)),
    timeline,
  };
}

/** Deployments of the version in every environment, with what replaced or rolled them back. */
function foldDeployments(f: ReportFacts, modelNames: ReadonlySet<string>) {
  const deployments: ReportDeployment[] = [];
  const timeline: ReportTimelineEntry[] = [];
  for (const [environment, events] of [...f.environments].sort(([a], [b]) => a.localeCompare(b))) {
    const ours = new Map<string, ReportDeployment>();
    let live: string | null = null;
    for (const e of events) {
      const d = e.data as Data;
      const id = String(d['deploymentId'] ?? '');
      const mine = ours.get(id);
      const note = (what: string) => timeline.push({ ...stampOf(e), stream: e.stream, type: e.type, what: `${environment}: ${what}` });
      switch (e.type) {
        case 'DeploymentRequested': {
          const rollbackOf = (d['rollbackOf'] as string | null) ?? null;
          const undone = rollbackOf ? ours.get(rollbackOf) : undefined;
          if (undone) {
            undone.rolledBackBy = { ...stampOf(e), deploymentId: id };
            note(`deployment ${rollbackOf} rolled back by ${id}`);
          }
          if (modelNames.has(String(d['model'])) && d['version'] === f.version) {
            const dep: ReportDeployment = {
              environment,
              deploymentId: id,
              requested: stampOf(e),
              reason: String(d['reason'] ?? ''),
              rollbackOf,
              restores: (d['restores'] as string | null) ?? null,
              status: 'requested',
              startedAt: null,
              finishedAt: null,
              error: null,
              attempts: 0,
              liveFrom: null,
              liveUntil: null,
              replacedBy: null,
              rolledBackBy: null,
            };
            ours.set(id, dep);
            deployments.push(dep);
            note(`deployment ${id} requested${rollbackOf ? ` (rollback of ${rollbackOf})` : ''}${dep.reason ? `: ${dep.reason}` : ''}`);
          }
          break;
        }
        case 'DeploymentStarted':
          if (mine) Object.assign(mine, { status: 'started', startedAt: e.recordedAt });
          break;
        case 'DeploymentAttemptRecorded':
          if (mine) mine.attempts++;
          break;
        case 'DeploymentSucceeded': {
          const previous = live ? ours.get(live) : undefined;
          if (previous && live !== id) Object.assign(previous, { liveUntil: e.recordedAt, replacedBy: id });
          live = id;
          if (mine) {
            Object.assign(mine, { status: 'succeeded', finishedAt: e.recordedAt, liveFrom: e.recordedAt });
            note(`deployment ${id} succeeded; version ${f.version} is live`);
          } else if (previous && previous.deploymentId !== id) note(`deployment ${id} replaced ${previous.deploymentId}`);
          break;
        }
        case 'DeploymentFailed':
          if (mine) {
            Object.assign(mine, { status: d['outcome'] === 'timed_out' ? 'timed_out' : 'failed', finishedAt: e.recordedAt, error: String(d['error'] ?? '') });
            note(`deployment ${id} ${mine.status === 'timed_out' ? 'timed out' : 'failed'}: ${mine.error}`);
          }
          break;
        default:
          break;
      }
    }
  }
  return { deployments, timeline };
}

function integrityOf(f: ReportFacts): ReportIntegrity {
  const relied = [...f.streams].filter(([, events]) => events.length > 0);
  if (!f.integrity)
    return { verified: false, ok: null, logOk: null, verifiedUpTo: null, sealsVerified: null, lastSealedPosition: null, streams: [], otherBreaks: 0 };
  const names = new Set(relied.map(([s]) => s));
  const streams = relied
    .map(([stream, events]) => {
      const last = events[events.length - 1]!;
      const breaks = f.integrity!.breaks.filter((b) => b.stream === stream);
      return { stream, events: events.length, lastRevision: last.revision, lastHash: last.hash, ok: breaks.length === 0, breaks };
    })
    .sort((a, b) => a.stream.localeCompare(b.stream));
  // A break without a stream (a gap in global positions) may hide an event of any stream.
  const unplaced = f.integrity.breaks.filter((b) => b.stream === null).length;
  return {
    verified: true,
    ok: streams.every((s) => s.ok) && unplaced === 0,
    logOk: f.integrity.ok,
    verifiedUpTo: f.integrity.headPosition,
    sealsVerified: f.integrity.seals.verified,
    lastSealedPosition: f.integrity.seals.lastSealedPosition,
    streams,
    otherBreaks: f.integrity.breaks.filter((b) => b.stream !== null && !names.has(b.stream)).length,
  };
}

function runTimeline(f: ReportFacts): ReportTimelineEntry[] {
  const out: ReportTimelineEntry[] = [];
  const run = f.run;
  if (!run) return out;
  for (const e of f.streams.get(`run-${run.runId}`) ?? []) {
    const d = e.data as Data;
    const what =
      e.type === 'RunStarted'
        ? `run ${run.runId} started${run.source.gitCommit ? ` at commit ${run.source.gitCommit}` : ''}`
        : e.type === 'RunParamsLogged'
          ? `params logged: ${((d['params'] as { key: string; value: string }[]) ?? []).map((p) => `${p.key}=${p.value}`).join(', ')}`
          : e.type === 'RunFinished'
            ? `run ended ${d['status']}`
            : e.type === 'RunDeleted' || e.type === 'RunRestored'
              ? `run ${e.type === 'RunDeleted' ? 'deleted' : 'restored'}`
              : null;
    if (what) out.push({ ...stampOf(e), stream: e.stream, type: e.type, what });
  }
  for (const i of f.inputs)
    out.push({ actor: i.declaredBy, at: i.declaredAt, position: i.declaredPosition, stream: `runio-${run.runId}`, type: 'RunInputsDeclared', what: `input declared: ${i.versionId} (${i.role})` });
  for (const i of f.inputs) {
    const v = f.datasets.get(i.datasetName)?.get(i.versionNumber);
    if (v) {
      out.push({ actor: v.committedBy, at: v.committedAt, position: v.committedPosition, stream: `dataset-${v.dataset}`, type: 'DatasetVersionCommitted', what: `dataset version ${v.versionId} committed: ${v.message}` });
      if (v.deprecated && v.deprecatedAt !== null && v.deprecatedPosition !== null)
        out.push({ actor: v.deprecatedBy ?? '', at: v.deprecatedAt, position: v.deprecatedPosition, stream: `dataset-${v.dataset}`, type: 'DatasetVersionDeprecated', what: `dataset version ${v.versionId} deprecated: ${v.deprecationReason}` });
    }
  }
  return out;
}

/** The audit report of one model version, from facts folded out of the log at one position. Pure. */
export function buildAuditReport(f: ReportFacts): ModelVersionAuditReport {
  const m = foldModel(f);
  if (!m.created) throw new NotFound(`model ${f.model} has no version ${f.version}`, { model: f.model, version: f.version });
  const c = m.created.data;
  const modelNames = new Set([f.model, ...f.previousNames]);
  const deps = foldDeployments(f, modelNames);
  const run = f.run;
  const data = f.inputs.map((i) => {
    const v = f.datasets.get(i.datasetName)?.get(i.versionNumber) ?? null;
    return {
      dataset: i.datasetName,
      version: i.versionNumber,
      versionId: i.versionId,
      role: i.role,
      declared: { actor: i.declaredBy, at: i.declaredAt, position: i.declaredPosition },
      manifestSha256: v?.manifestSha256 ?? null,
      fileCount: v?.fileCount ?? null,
      totalBytes: v?.totalBytes ?? null,
      message: v?.message ?? null,
      committed: v ? { actor: v.committedBy, at: v.committedAt, position: v.committedPosition } : null,
      deprecated: v?.deprecated ?? false,
      deprecationReason: v?.deprecationReason ?? null,
    };
  });
  const timeline = [...m.timeline, ...deps.timeline, ...runTimeline(f)].sort((a, b) => a.at - b.at || a.position - b.position);
  const gaps: string[] = [];
  if (!run) gaps.push(`the training run ${c['runId']} has no events in the log`);
  else {
    if (!run.source.gitCommit) gaps.push('the training run recorded no git commit: the code that trained the model is unknown');
    if (run.source.gitDirty) gaps.push(run.source.gitDiff ? 'the training run ran on uncommitted changes (recorded as a diff)' : 'the training run ran on uncommitted changes that were not recorded');
    if (f.inputs.length === 0) gaps.push('the training run declared no dataset inputs: the data it trained on is not on record');
  }
  if (!m.registered) gaps.push('the model’s registration is not in the log read');
  const integrity = integrityOf(f);
  if (!integrity.verified) gaps.push('integrity was not verified for this report');
  return {
    schema: AUDIT_REPORT_SCHEMA,
    generatedAt: f.generatedAt,
    asOf: { position: f.asOf.position, recordedAt: f.asOf.recordedAt, head: f.asOf.head, latest: f.asOf.position === f.asOf.head },
    model: { name: f.model, description: m.description, registered: m.registered, previousNames: [...f.previousNames] },
    version: {
      version: f.version,
      created: { actor: m.created.actor, at: m.created.at, position: m.created.position },
      runId: String(c['runId']),
      artifactPath: String(c['artifactPath']),
      sha256: String(c['sha256']),
      size: Number(c['size']),
      format: (c['format'] as string | null) ?? null,
      description: String(c['description'] ?? ''),
      stage: m.stage,
      aliases: m.aliases,
      deleted: m.deleted,
    },
    training: run
      ? {
          runId: run.runId,
          name: run.name,
          experimentId: run.experimentId,
          started: { actor: run.startedBy, at: f.streams.get(`run-${run.runId}`)?.[0]?.recordedAt ?? run.startTime, position: run.startPosition },
          startTime: run.startTime,
          endTime: run.endTime,
          status: run.status,
          source: run.source,
          params: run.params,
          metrics: run.metrics.map((x) => ({ key: x.key, value: encodeMetricValue(x.value), step: x.step })),
          environment: run.environment,
          reproductionOf: run.reproductionOf,
        }
      : null,
    data,
    approvals: m.approvals,
    promotions: m.promotions,
    refusals: m.refusals,
    gates: m.gates,
    deployments: deps.deployments,
    integrity,
    timeline,
    gaps,
  };
}
